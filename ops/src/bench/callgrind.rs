//! Counting the instructions of one decision with callgrind: `easel-decide`
//! on one file, collecting only inside its `decide` function, so process
//! start-up, reading the file and printing are not counted. Instruction
//! counts do not depend on what else the machine is doing.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use easel_resizer::Work;

/// The function `easel-decide` does all its work in, as callgrind names it.
pub const DECIDE_FN: &str = "easel_decide::decide";

/// One counted decision.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    /// Instructions executed inside `decide` (callgrind's `Ir`).
    pub ir: u64,
    pub accepted: bool,
    /// The size accepted, or the refusal's reason.
    pub detail: String,
    pub work: Work,
    pub within_budget: bool,
}

/// Runs `decide_bin` on `file` under callgrind, writing callgrind's data to
/// `out` (kept for `callgrind_annotate`).
pub fn measure(valgrind: &Path, decide_bin: &Path, file: &Path, render: bool, out: &Path) -> anyhow::Result<Measured> {
    let mut cmd = Command::new(valgrind);
    cmd.arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect={DECIDE_FN}"))
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(decide_bin)
        .arg(file);
    if render {
        cmd.arg("--render");
    }
    let output = cmd.output().with_context(|| format!("starting valgrind on {}", file.display()))?;
    if !output.status.success() {
        bail!(
            "easel-decide under callgrind failed on {} ({}):\n{}",
            file.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    let mut m = parse_decision(&String::from_utf8_lossy(&output.stdout))
        .with_context(|| format!("reading easel-decide's answer on {}", file.display()))?;
    let data = std::fs::read_to_string(out).with_context(|| format!("reading {}", out.display()))?;
    m.ir = parse_total(&data).with_context(|| format!("no instruction total in {}", out.display()))?;
    if m.ir == 0 {
        bail!("callgrind counted nothing on {}: was `{DECIDE_FN}` inlined or renamed?", file.display());
    }
    Ok(m)
}

/// The `key=value` lines `easel-decide` prints.
pub fn parse_decision(stdout: &str) -> anyhow::Result<Measured> {
    let mut m = Measured::default();
    let mut seen = false;
    for line in stdout.lines() {
        let Some((key, value)) = line.split_once('=') else { continue };
        let num = || value.trim().parse::<u64>().with_context(|| format!("`{line}` is not a number"));
        match key {
            "decision" => {
                m.accepted = value == "accepted";
                seen = true;
            }
            "detail" => m.detail = value.to_owned(),
            "blocks_decoded" => m.work.blocks_decoded = num()?,
            "block_budget" => m.work.block_budget = num()?,
            "bytes_inflated" => m.work.bytes_inflated = num()?,
            "inflate_budget" => m.work.inflate_budget = num()?,
            "within_budget" => m.within_budget = value == "true",
            _ => {}
        }
    }
    if !seen {
        bail!("no decision in its output:\n{stdout}");
    }
    Ok(m)
}

/// The event total of a callgrind output file: its `totals:` line, or
/// failing that its `summary:` line.
pub fn parse_total(data: &str) -> Option<u64> {
    let find = |prefix: &str| {
        data.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    find("totals:").or_else(|| find("summary:"))
}

/// One function's share of a count.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionCost {
    pub ir: u64,
    pub percent: f64,
    pub name: String,
}

/// The `n` functions with the highest self cost in a callgrind output file.
pub fn top_functions(annotate: &Path, out: &Path, n: usize) -> anyhow::Result<Vec<FunctionCost>> {
    let output = Command::new(annotate)
        .arg("--inclusive=no")
        .arg(out)
        .output()
        .with_context(|| format!("running callgrind_annotate on {}", out.display()))?;
    if !output.status.success() {
        bail!("callgrind_annotate failed: {}", String::from_utf8_lossy(&output.stderr).trim_end());
    }
    Ok(parse_annotate(&String::from_utf8_lossy(&output.stdout)).into_iter().take(n).collect())
}

/// The per-function lines of `callgrind_annotate`'s output
/// (`1,234 (12.34%)  file:function [object]`), without the program total.
pub fn parse_annotate(text: &str) -> Vec<FunctionCost> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some((count, rest)) = line.split_once(' ') else { continue };
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit() || b == b',') {
            continue;
        }
        let Ok(ir) = count.replace(',', "").parse::<u64>() else { continue };
        let rest = rest.trim_start();
        let Some((percent, name)) = rest.strip_prefix('(').and_then(|r| r.split_once("%)")) else { continue };
        let Ok(percent) = percent.trim().parse::<f64>() else { continue };
        let name = name.trim();
        if name.starts_with("PROGRAM TOTALS") {
            continue;
        }
        // Drop the object file and the unknown source file.
        let name = name.rsplit_once(" [").map_or(name, |(n, _)| n);
        let name = name.strip_prefix("???:").unwrap_or(name);
        out.push(FunctionCost { ir, percent, name: name.to_owned() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_decision_and_the_counters() {
        let m = parse_decision(
            "decision=refused\ndetail=Contrived: 301 scans\nblocks_decoded=12\nblock_budget=40\nbytes_inflated=0\n\
             inflate_budget=0\nwithin_budget=true\n",
        )
        .unwrap();
        assert!(!m.accepted);
        assert_eq!(m.detail, "Contrived: 301 scans");
        assert_eq!((m.work.blocks_decoded, m.work.block_budget), (12, 40));
        assert!(m.within_budget);
        assert!(parse_decision("nothing\n").is_err());
    }

    #[test]
    fn reads_the_total_from_totals_or_summary() {
        assert_eq!(parse_total("version: 1\nevents: Ir\nfn=x\n0 5\ntotals: 123456\n"), Some(123_456));
        assert_eq!(parse_total("events: Ir\nsummary: 42\n"), Some(42));
        assert_eq!(parse_total("events: Ir\n"), None);
    }

    #[test]
    fn reads_annotate_lines() {
        let text = "\
--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
10,000 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir              file:function
--------------------------------------------------------------------------------
6,000 (60.00%)  ???:easel_resizer::image::jpeg::decode_scan [/t/easel-decide]
4,000 (40.00%)  ./string/../sysdeps/x86_64/multiarch/memset-vec-unaligned-erms.S:memset [/usr/lib/libc.so.6]
";
        let f = parse_annotate(text);
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0],
            FunctionCost { ir: 6000, percent: 60.0, name: "easel_resizer::image::jpeg::decode_scan".into() }
        );
        assert!(f[1].name.ends_with(":memset"), "{:?}", f[1]);
    }
}
