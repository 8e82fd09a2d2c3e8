//! Running one tool as whole processes, pinned to one core, with wall time
//! measured here and peak RSS reported by GNU time.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};

/// One process to start: the tools that cannot write JPEG and PNG in one
/// go (vipsthumbnail) take two, and their times add up.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub seconds: f64,
    pub peak_rss_kib: u64,
}

/// Runs `invocations` one after the other under `taskset -c 0` and
/// `time -f %M`; the sample is their summed wall time and largest peak RSS.
pub fn run(invocations: &[Invocation], time_bin: &Path, scratch: &Path) -> anyhow::Result<Sample> {
    let rss_file = scratch.join("rss.txt");
    let mut seconds = 0.0;
    let mut peak = 0;
    for inv in invocations {
        let _ = std::fs::remove_file(&rss_file);
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", "0"])
            .arg(time_bin)
            .args(["-f", "%M", "-o"])
            .arg(&rss_file)
            .arg(&inv.program)
            .args(&inv.args)
            .envs(inv.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let out = cmd.output().with_context(|| format!("starting {}", inv.program.display()))?;
        seconds += started.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!(
                "{} failed ({}):\n{}",
                inv.program.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end()
            );
        }
        let rss = std::fs::read_to_string(&rss_file).context("reading GNU time's output")?;
        // GNU time may print a notice line before the number.
        let kib = rss
            .lines()
            .filter_map(|l| l.trim().parse::<u64>().ok())
            .next_back()
            .with_context(|| format!("GNU time reported no peak RSS: {rss:?}"))?;
        peak = peak.max(kib);
    }
    Ok(Sample { seconds, peak_rss_kib: peak })
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn runs_a_pinned_process_and_reads_its_peak_rss() {
        let time_bin = Path::new("/usr/bin/time");
        if !time_bin.exists() {
            // The bench installs GNU time itself; without it this test has
            // nothing to measure with, so it checks the error instead.
            let inv = Invocation { program: "true".into(), args: vec![], env: vec![] };
            assert!(run(&[inv], time_bin, &std::env::temp_dir()).is_err());
            return;
        }
        let dir = std::env::temp_dir().join(format!("easel-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sleep = Invocation { program: "sleep".into(), args: vec!["0.05".into()], env: vec![] };
        let sample = run(&[sleep.clone(), sleep], time_bin, &dir).unwrap();
        assert!(sample.seconds >= 0.1, "two 50 ms sleeps took {}", sample.seconds);
        assert!(sample.peak_rss_kib > 0);
        let failing = Invocation { program: "false".into(), args: vec![], env: vec![] };
        assert!(run(&[failing], time_bin, &dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
