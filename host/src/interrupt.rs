//! SIGINT and SIGTERM. Until a command starts writing, a signal ends the process at once: nothing
//! has been written, and nothing is left half done. While records are being written (or while
//! `--follow` forwards them), the signal is recorded instead; the writer stops sending, waits for
//! what is in flight (within the connection's timeout) and reports what landed. A second signal
//! always ends the process at once.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Exit status after SIGINT (128 + 2).
pub const EXIT_SIGINT: i32 = 130;
/// Exit status after SIGTERM (128 + 15).
pub const EXIT_SIGTERM: i32 = 143;

static REQUESTED: AtomicU8 = AtomicU8::new(0);
static GRACEFUL: AtomicBool = AtomicBool::new(false);

/// Starts listening for SIGINT and SIGTERM.
pub fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        for signal in signals.forever() {
            let first = REQUESTED.swap(signal as u8, Ordering::SeqCst) == 0;
            if first && GRACEFUL.load(Ordering::SeqCst) {
                eprintln!("mm2-migrate: {} received: stopping at the next safe point (again to stop at once)", name(signal));
                continue;
            }
            eprintln!("mm2-migrate: {} received: stopped{}", name(signal), if first { "; nothing was written" } else { "" });
            std::process::exit(status(signal));
        }
    })?;
    Ok(())
}

fn name(signal: i32) -> &'static str {
    if signal == signal_hook::consts::SIGTERM { "SIGTERM" } else { "SIGINT" }
}

fn status(signal: i32) -> i32 {
    if signal == signal_hook::consts::SIGTERM { EXIT_SIGTERM } else { EXIT_SIGINT }
}

/// Whether a signal asked the command to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst) != 0
}

/// Sleeps for `duration`, or less when a signal asks the command to stop; whether it slept
/// the whole time.
pub fn pause(duration: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + duration;
    while !requested() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(100)));
    }
    false
}

/// The exit status for the signal received, if any.
pub fn exit_status() -> Option<i32> {
    match REQUESTED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(status(i32::from(signal))),
    }
}

/// While it lives, a signal is recorded instead of ending the process (a write in progress).
pub struct Graceful {
    was: bool,
}

impl Graceful {
    pub fn begin() -> Graceful {
        Graceful { was: GRACEFUL.swap(true, Ordering::SeqCst) }
    }
}

impl Drop for Graceful {
    fn drop(&mut self) {
        GRACEFUL.store(self.was, Ordering::SeqCst);
    }
}
