//! Avatars drawn locally: a coloured circle with initials, as an SVG data URL, so the demo
//! needs no network.

/// Background colours with enough contrast for white initials.
const PALETTE: [&str; 10] =
    ["#3b5bdb", "#0c8599", "#2b8a3e", "#e8590c", "#c2255c", "#7048e8", "#1971c2", "#5c940d", "#d6336c", "#9c36b5"];

/// A data URL of an avatar for `name`; `seed` picks the colour, so it is stable per member.
pub fn data_url(name: &str, seed: &str) -> String {
    let color = PALETTE[usize::try_from(fnv1a(seed) % PALETTE.len() as u64).unwrap_or(0)];
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 96 96'>\
         <rect width='96' height='96' fill='{color}'/>\
         <text x='48' y='48' dy='0.35em' text-anchor='middle' fill='#ffffff' \
         font-family='system-ui,-apple-system,Segoe UI,sans-serif' font-size='38' font-weight='600'>{}</text></svg>",
        initials(name)
    );
    format!("data:image/svg+xml,{}", percent_encode(&svg))
}

/// The first letter of the first and last word of a name, in capitals.
fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = words.first().and_then(|w| w.chars().next());
    let last = words.get(1..).and_then(<[&str]>::last).and_then(|w| w.chars().next());
    first.into_iter().chain(last).flat_map(char::to_uppercase).collect()
}

/// Percent-encodes everything but a few characters that are safe in a data URL.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        let safe = byte.is_ascii_alphanumeric() || b"-_.'=/:,;()".contains(&byte);
        if safe {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_come_from_the_first_and_last_name() {
        assert_eq!(initials("Lena Hartmann"), "LH");
        assert_eq!(initials("María José García"), "MG");
        assert_eq!(initials("Prince"), "P");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn an_avatar_is_an_svg_data_url_without_raw_markup() {
        let url = data_url("Zoë Ålund", "U1");
        assert!(url.starts_with("data:image/svg+xml,"));
        assert!(!url.contains('<') && !url.contains('#') && !url.contains(' '));
        assert!(url.contains("Z%C3%85"), "initials are percent-encoded UTF-8: {url}");
    }

    #[test]
    fn the_colour_is_stable_per_seed() {
        assert_eq!(data_url("A B", "U1"), data_url("A B", "U1"));
    }
}
