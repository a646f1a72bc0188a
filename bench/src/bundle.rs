//! B5 (issue 13): what a browser downloads, from the release build's site directory
//! (`cargo leptos build --release --split`). Every page loads the main wasm module, its JS
//! and the style sheet; a lazy page (`lazy_page!` in `app/src/app.rs`) also loads its own split module and the
//! chunks it shares with others, as the split manifest lists them. Sizes are gzip -9, as a
//! server compressing its responses sends them.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::Context as _;

/// The aim from the issue, for what every page loads.
pub const AIM_KB: f64 = 250.0;

/// A file and its sizes.
#[derive(Debug, Clone)]
pub struct Sized {
    pub name: String,
    pub raw: u64,
    pub gzipped: u64,
}

/// The figures of one build.
pub struct Figures {
    /// What every page loads: the main module, its JS loader, the split loader, the styles.
    pub every_page: Vec<Sized>,
    /// Each lazy page's own files (its module and the chunks it needs), by route.
    pub pages: BTreeMap<String, Vec<Sized>>,
}

impl Figures {
    pub fn every_page_gzipped(&self) -> u64 {
        self.every_page.iter().map(|file| file.gzipped).sum()
    }
}

/// Reads the sizes of the build in `pkg` (the site's `pkg` directory).
pub async fn measure(pkg: &Path) -> anyhow::Result<Figures> {
    let mut every_page = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(pkg)
        .with_context(|| format!("reading {} (build it with `cargo leptos build --release --split`)", pkg.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    for name in &names {
        let loaded_by_all = name == "rapport.wasm"
            || name == "rapport.js"
            || name == "rapport.css"
            || (name.starts_with("__wasm_split") && name.ends_with(".js"));
        if loaded_by_all {
            every_page.push(size(&pkg.join(name)).await?);
        }
    }
    anyhow::ensure!(every_page.iter().any(|file| file.name == "rapport.wasm"), "no rapport.wasm in {}", pkg.display());
    let manifest_path = pkg.join("__wasm_split_manifest.json");
    let manifest: BTreeMap<String, Vec<String>> = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| format!("reading {}", manifest_path.display()))?,
        Err(_) => BTreeMap::new(),
    };
    let mut pages = BTreeMap::new();
    for (split, chunks) in manifest {
        let mut files = Vec::new();
        for chunk in chunks {
            files.push(size(&pkg.join(format!("{chunk}.wasm"))).await?);
        }
        pages.insert(route_name(&split), files);
    }
    Ok(Figures { every_page, pages })
}

/// `people` from the split module's name `__people_route_view_<hash>`.
fn route_name(split: &str) -> String {
    let name = split.trim_start_matches('_');
    let name = name.rsplit_once("_route_view_").map_or(name, |(route, _)| route);
    name.to_owned()
}

async fn size(path: &Path) -> anyhow::Result<Sized> {
    let raw = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    let gzip =
        tokio::process::Command::new("gzip").arg("-9").arg("-c").arg(path).output().await.context("running gzip")?;
    anyhow::ensure!(gzip.status.success(), "gzip failed on {}", path.display());
    let name = path.file_name().map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    Ok(Sized { name, raw, gzipped: gzip.stdout.len() as u64 })
}

/// The release site's `pkg` directory under the workspace root `root`
/// ([`crate::server::RELEASE_SITE_ROOT`], and `Cargo.toml`'s `site-pkg-dir`).
pub fn pkg_dir(root: &Path) -> PathBuf {
    root.join(crate::server::RELEASE_SITE_ROOT).join("pkg")
}

/// The figures as Markdown tables.
pub fn table(figures: &Figures) -> String {
    let kb = |bytes: u64| format!("{:.1} KB", bytes as f64 / 1000.0);
    let every_page = figures.every_page_gzipped();
    let verdict = crate::report::verdict(every_page as f64 / 1000.0 <= AIM_KB);
    let mut lines = vec![
        "| loaded by | files | raw | gzipped | target | |".to_owned(),
        "|---|---|---:|---:|---|---|".to_owned(),
        format!(
            "| every page | {} | {} | {} | <= {AIM_KB:.0} KB | {verdict} |",
            figures.every_page.iter().map(|file| format!("`{}`", file.name)).collect::<Vec<_>>().join(", "),
            kb(figures.every_page.iter().map(|file| file.raw).sum()),
            kb(every_page),
        ),
    ];
    for (route, files) in &figures.pages {
        let own: u64 = files.iter().map(|file| file.gzipped).sum();
        lines.push(format!(
            "| `{route}` page, beyond that | its module and {} shared chunks | {} | {} (page total {}) | | |",
            files.len().saturating_sub(1),
            kb(files.iter().map(|file| file.raw).sum()),
            kb(own),
            kb(every_page + own),
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_module_is_named_by_its_route() {
        assert_eq!(route_name("__people_route_view_13244794705925734294"), "people");
        assert_eq!(route_name("__admin_home_route_view_1"), "admin_home");
        assert_eq!(route_name("odd"), "odd");
    }
}
