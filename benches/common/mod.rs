//! What the benchmarks share: writing their figures into BENCHMARKS.md.
//!
//! Each benchmark owns one section of BENCHMARKS.md, between `<!-- bench:NAME -->` markers, and
//! rewrites only that section, stamped with the date, the machine and the command, so running
//! one benchmark never erases another's figures.

use std::path::PathBuf;

/// A benchmark's section: printed as it is measured, written to BENCHMARKS.md at the end.
pub struct Report {
    name: &'static str,
    command: &'static str,
    body: String,
}

impl Report {
    pub fn new(name: &'static str, command: &'static str) -> Report {
        Report {
            name,
            command,
            body: String::new(),
        }
    }

    /// A line of the section (Markdown), also printed.
    pub fn line(&mut self, text: impl AsRef<str>) {
        println!("{}", text.as_ref());
        self.body.push_str(text.as_ref());
        self.body.push('\n');
    }

    /// Replaces this benchmark's section of BENCHMARKS.md.
    pub fn write(self) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
        let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| HEADER.to_string());
        let (start, end) = (
            format!("<!-- bench:{} -->", self.name),
            format!("<!-- /bench:{} -->", self.name),
        );
        let section = format!(
            "{start}\n_Measured {} with `{}` (release build) on {}._\n\n{}{end}",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
            self.command,
            machine(),
            self.body,
        );
        let updated = match (existing.find(&start), existing.find(&end)) {
            (Some(from), Some(to)) if from < to => format!(
                "{}{section}{}",
                &existing[..from],
                &existing[to + end.len()..]
            ),
            _ => format!("{}\n{section}\n", existing.trim_end()),
        };
        std::fs::write(&path, updated).expect("write BENCHMARKS.md");
        println!("\n(written to {})", path.display());
    }
}

const HEADER: &str = "# Benchmarks\n\nWritten by `cargo bench`: each section below is rewritten by \
the benchmark named in it, with the date, the machine and the command. Figures, not pass/fail: \
nothing here is asserted in a test.\n";

/// A `key: N kB` figure of a Linux /proc file.
pub fn proc_kib(path: &str, key: &str) -> Option<f64> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
}

/// Runs `measure` on a multi-threaded runtime and writes its report, when cargo runs the
/// benchmark (`cargo test --benches` runs bench binaries without `--bench`: nothing then).
pub fn run(name: &'static str, command: &'static str, measure: impl AsyncFnOnce(&mut Report)) {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut report = Report::new(name, command);
    runtime.block_on(measure(&mut report));
    report.write();
}

/// The cores, the processor and the memory of this machine, as Linux reports them.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split(':').nth(1))
        .map_or("an unknown processor".to_string(), |name| {
            name.trim().to_string()
        });
    let memory_gib =
        proc_kib("/proc/meminfo", "MemTotal:").map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    format!("{cores} cores of {cpu}, {memory_gib:.0} GiB")
}
