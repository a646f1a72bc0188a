//! Self-hosted admin accounts: made from the command line (`rapport admin create`), checked
//! at sign-in. Passwords are hashed with argon2id on [`HASHING_THREADS`] threads of their
//! own at the lowest priority, each in one buffer it keeps, behind a queue of at most
//! [`HASHING_QUEUE`] waiting hashes (past that a sign-in is refused at once with
//! [`AppError::Busy`]), and an unknown email costs the same as a known one.

use std::{
    cell::RefCell,
    sync::{
        Arc, LazyLock, Mutex,
        mpsc::{self, Receiver, SyncSender, TrySendError},
    },
};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString, rand_core::OsRng},
};
use tokio::sync::oneshot;

use crate::{
    error::AppError,
    features::auth::types::{Email, Password},
    server::{
        db::{
            Db,
            admin_accounts::{self, AdminAccount},
        },
        new_id,
    },
};

/// How many password hashes run at once: each takes tens of milliseconds of one core and
/// 19 MiB, so a burst of sign-ins queues for these threads rather than taking every core.
pub const HASHING_THREADS: usize = 2;

/// How many hashes may wait for a thread. With the core busy, hashing gets only what requests
/// leave over and a long queue meant sign-ins waiting 20 s and more (B6 in BENCHMARKS.md);
/// past this many, a sign-in is refused at once and the person is told to try again.
pub const HASHING_QUEUE: usize = 8;

/// The nice value of the hashing threads, the lowest priority there is. Slack gives an event
/// 3 seconds to be acknowledged and a page should render in milliseconds, while a sign-in can
/// wait: with the server's cores busy, hashing gets only what requests leave over.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const HASHING_NICE: i32 = 19;

/// A hash or check to run on a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// Threads that run hashing jobs, and the bounded queue where jobs wait for them.
struct HashingPool {
    jobs: SyncSender<Job>,
}

impl HashingPool {
    /// Starts `threads` hashing threads behind a queue of `queue` waiting jobs.
    fn start(threads: usize, queue: usize) -> HashingPool {
        let (jobs, waiting) = mpsc::sync_channel::<Job>(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for number in 0..threads {
            let waiting = waiting.clone();
            let started = std::thread::Builder::new()
                .name(format!("password-hashing-{number}"))
                .spawn(move || run_hashing_thread(&waiting));
            if let Err(error) = started {
                tracing::error!(error = %error, "could not start a password hashing thread");
            }
        }
        HashingPool { jobs }
    }

    /// Queues `work` for a hashing thread now (`Busy` at once when the queue is full); the
    /// future answers with its result once a thread has run it.
    fn run<T, F>(&self, work: F) -> impl Future<Output = Result<T, AppError>> + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have gone (its request dropped); the work is simply thrown away.
            let _ = done.send(work());
        });
        let queued = match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(AppError::Busy),
            Err(TrySendError::Disconnected(_)) => {
                Err(AppError::internal(anyhow::anyhow!("the password hashing threads have stopped")))
            }
        };
        async move {
            queued?;
            result.await.map_err(AppError::internal)
        }
    }
}

/// The server's hashing threads; they start with the first job.
static HASHING: LazyLock<HashingPool> = LazyLock::new(|| HashingPool::start(HASHING_THREADS, HASHING_QUEUE));

/// A hashing thread: lowers its own priority, then runs jobs until the server exits.
fn run_hashing_thread(waiting: &Mutex<Receiver<Job>>) {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), HASHING_NICE) {
        tracing::warn!(error = %error, "password hashing runs at normal priority: lowering it failed");
    }
    loop {
        // The lock is held only to take a job, never while one runs.
        let job = match waiting.lock() {
            Ok(waiting) => waiting.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // A job that panics loses its result (its caller gets an error), not the thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Runs `work` on one of the server's hashing threads and waits for its result.
async fn on_hashing_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    HASHING.run(work).await
}

/// A hash of a password nobody has, checked for unknown emails so that they take as long
/// as known ones (timing must not tell which emails have an account).
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now("not the password of anyone at all").unwrap_or_default());

/// Creates the admin account of `email`. Refused with `Conflict` when it exists.
pub async fn create_admin(db: &Db, email: &Email, password: &Password, now_ms: i64) -> Result<(), AppError> {
    let password_hash = hash(password).await?;
    let account = AdminAccount {
        id: new_id(),
        email: email.as_str().to_owned(),
        password_hash,
        created_at: now_ms,
        updated_at: now_ms,
    };
    if !admin_accounts::insert_if_new(db.pool(), &account).await? {
        return Err(AppError::Conflict(format!("{} already has an admin account", email.as_str())));
    }
    Ok(())
}

/// The admin account `email` signs in to with `password`, or `None` (unknown email or wrong
/// password: the caller cannot and should not tell which).
pub async fn verify_admin(db: &Db, email: &Email, password: &Password) -> Result<Option<AdminAccount>, AppError> {
    let account = admin_accounts::find_by_email(db.pool(), email.as_str()).await?;
    let matches = verify(password, account.as_ref().map(|account| account.password_hash.clone())).await?;
    Ok(account.filter(|_| matches))
}

async fn hash(password: &Password) -> Result<String, AppError> {
    let password = password.clone();
    on_hashing_thread(move || hash_now(password.expose())).await?.map_err(AppError::internal)
}

/// Checks `password` against the `stored` hash, or against [`DUMMY_HASH`] when there is none
/// (an unknown email), in one job either way: a known and an unknown email wait in the queue
/// once each, and are refused as busy alike.
async fn verify(password: &Password, stored: Option<String>) -> Result<bool, AppError> {
    let password = password.clone();
    on_hashing_thread(move || {
        // The first use computes the dummy hash, here on a hashing thread like every hash.
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        verify_now(password.expose(), &stored)
    })
    .await?
    .map_err(AppError::internal)
}

/// How new passwords are hashed: argon2id, version 0x13, with the crate's default settings
/// (OWASP's minimum: 19 MiB, 2 passes). A stored hash names its own, which checking uses.
const ALGORITHM: Algorithm = Algorithm::Argon2id;
const VERSION: Version = Version::V0x13;

/// A new hash of `password` with a random salt, as a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let argon2 = Argon2::new(ALGORITHM, VERSION, Params::default());
    let output = hash_into_kept_memory(&argon2, password, salt.as_salt(), argon2.params().output_len())?;
    let hash = PasswordHash {
        algorithm: ALGORITHM.ident(),
        version: Some(VERSION.into()),
        params: ParamsString::try_from(argon2.params()).map_err(|error| anyhow::anyhow!("argon2 settings: {error}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Whether `password` hashes to `stored` (a PHC string) with the settings and salt it names.
/// The outputs are compared in constant time (`Output`'s equality).
fn verify_now(password: &str, stored: &str) -> anyhow::Result<bool> {
    let unreadable = |error: &dyn std::fmt::Display| anyhow::anyhow!("a stored hash is unreadable: {error}");
    let parsed = PasswordHash::new(stored).map_err(|error| unreadable(&error))?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|error| unreadable(&error))?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(|error| unreadable(&error))?;
    let params = Params::try_from(&parsed).map_err(|error| unreadable(&error))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(anyhow::anyhow!("a stored hash has no salt or no output"));
    };
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params);
    let output = hash_into_kept_memory(&argon2, password, salt, Some(expected.len()))?;
    Ok(output == expected)
}

thread_local! {
    /// The argon2 memory of this thread (a hashing thread), made at its first hash and kept
    /// for every next one. Allocated and freed for each hash, glibc kept what the buffers
    /// had touched spread over its per-thread heaps: 269 MB resident after the first
    /// sign-ins instead of 34 (BENCHMARKS.md, B6), where two kept buffers are 38 MiB.
    static ARGON2_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Hashes `password` with `salt` by `argon2`'s settings into this thread's kept memory,
/// grown first when the settings need more; the output is `output_len` bytes (the crate's
/// default when `None`).
fn hash_into_kept_memory(
    argon2: &Argon2<'_>,
    password: &str,
    salt: Salt<'_>,
    output_len: Option<usize>,
) -> anyhow::Result<Output> {
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(|error| anyhow::anyhow!("reading a salt: {error}"))?;
    let blocks = argon2.params().block_count();
    ARGON2_MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        Output::init_with(output_len.unwrap_or(Params::DEFAULT_OUTPUT_LEN), |out| {
            argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..blocks])?;
            Ok(())
        })
        .map_err(|error| anyhow::anyhow!("hashing a password failed: {error}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn passwords_are_hashed_at_the_lowest_priority_off_the_async_workers() {
        let caller = std::thread::current().id();
        let (thread, nice) = on_hashing_thread(|| {
            (std::thread::current().id(), rustix::process::getpriority_process(Some(rustix::thread::gettid())))
        })
        .await
        .unwrap();
        assert_ne!(thread, caller);
        assert_eq!(nice.unwrap(), HASHING_NICE);
    }

    #[tokio::test]
    async fn a_password_checks_against_its_own_hash_only() {
        let password = Password::parse("correct horse battery staple").unwrap();
        let stored = hash(&password).await.unwrap();
        assert!(verify(&password, Some(stored.clone())).await.unwrap());
        let other = Password::parse("incorrect horse battery staple").unwrap();
        assert!(!verify(&other, Some(stored)).await.unwrap());
        assert!(!verify(&password, None).await.unwrap(), "no account: checked against the dummy hash, never a match");
    }

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_now("correct horse battery staple").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery staple", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"correct horse battery stapler", &parsed).is_err());
        // A hash stored before this code (by the crate itself), with other settings.
        let params = Params::new(8 * 1024, 3, 1, Some(24)).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"open sesame", &salt)
            .unwrap()
            .to_string();
        assert!(verify_now("open sesame", &theirs).unwrap());
        assert!(!verify_now("open sesame!", &theirs).unwrap());
    }

    #[test]
    fn an_unreadable_stored_hash_is_an_error_not_a_mismatch() {
        let error = verify_now("anything", "$argon2id$v=19$m=19456,t=2,p=1$not-a-hash").unwrap_err();
        assert!(error.to_string().contains("unreadable") || error.to_string().contains("no salt"), "{error}");
        let error = verify_now("anything", "plain text").unwrap_err();
        assert!(error.to_string().contains("unreadable"), "{error}");
    }

    #[test]
    fn a_thread_hashes_in_the_same_memory_every_time() {
        std::thread::spawn(|| {
            let blocks = Argon2::default().params().block_count();
            let first = hash_now("one").unwrap();
            let kept = ARGON2_MEMORY.with_borrow(|memory| (memory.len(), memory.as_ptr()));
            let second = hash_now("two").unwrap();
            assert!(verify_now("one", &first).unwrap() && verify_now("two", &second).unwrap());
            assert_eq!(kept.0, blocks);
            assert_eq!(ARGON2_MEMORY.with_borrow(|memory| (memory.len(), memory.as_ptr())), kept);
        })
        .join()
        .unwrap();
    }

    #[tokio::test]
    async fn past_a_full_queue_hashing_is_refused_at_once_and_the_queue_still_drains() {
        let pool = HashingPool::start(1, 2);
        let (release, held) = mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let blocker = pool.run(move || {
            let _ = started.send(());
            held.recv().is_ok()
        });
        running.await.unwrap();
        // The thread is busy: two jobs may wait, the third is refused without waiting.
        let first = pool.run(|| 1);
        let second = pool.run(|| 2);
        assert_eq!(pool.run(|| 3).await, Err(AppError::Busy));
        release.send(()).unwrap();
        assert_eq!(blocker.await, Ok(true));
        assert_eq!((first.await, second.await), (Ok(1), Ok(2)));
        assert_eq!(pool.run(|| 4).await, Ok(4), "once the queue drains, jobs are taken again");
    }
}
