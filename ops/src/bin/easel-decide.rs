//! `easel-decide FILE [--render]`: the image core's decision on one file,
//! for `cargo ops bench hostile` to run under callgrind.
//!
//! The work happens inside `decide`, which is never inlined, so callgrind
//! can count only its instructions (`--collect-atstart=no
//! --toggle-collect=easel_decide::decide`): not process start-up, not
//! reading the file, not printing. Default: the upload check
//! (`inspect_metered`). `--render`: the resizer's `render_metered` with the
//! default renditions and encoding.
//!
//! Prints `key=value` lines: `decision` (`accepted` or `refused`),
//! `detail` (the size accepted, or the refusal's kind and cause), and the
//! work counters.

use std::process::ExitCode;

use easel_resizer::image::{EncodeOptions, ImageError, Limits, RenditionSpec, Work, inspect_metered, render_metered};

/// What the core decided: `Ok(detail)` or the refusal.
type Decision = Result<String, ImageError>;

/// Everything callgrind counts. `render` picks the resizer's path over the
/// upload check's.
#[inline(never)]
fn decide(bytes: &[u8], render: bool) -> (Decision, Work) {
    let limits = Limits::default();
    if render {
        let specs = RenditionSpec::defaults();
        let (result, work) = render_metered(bytes, &specs, &limits, &EncodeOptions::default());
        let detail = result.map(|renditions| {
            renditions.iter().map(|r| format!("{} {}x{}", r.name, r.width, r.height)).collect::<Vec<_>>().join(", ")
        });
        (detail, work)
    } else {
        let (result, work) = inspect_metered(bytes, &limits);
        (result.map(|info| format!("{:?} {}x{}", info.format, info.width, info.height)), work)
    }
}

fn main() -> ExitCode {
    let mut render = false;
    let mut file = None;
    for arg in std::env::args_os().skip(1) {
        if arg == "--render" {
            render = true;
        } else if file.is_none() {
            file = Some(arg);
        } else {
            eprintln!("usage: easel-decide FILE [--render]");
            return ExitCode::from(2);
        }
    }
    let Some(file) = file else {
        eprintln!("usage: easel-decide FILE [--render]");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {}: {e}", file.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    let (decision, work) = decide(std::hint::black_box(&bytes), render);
    let (verdict, detail) = match &decision {
        Ok(d) => ("accepted", d.clone()),
        Err(e) => {
            // The variant's name, then its technical cause or, without one,
            // the message merchants see.
            let debug = format!("{e:?}");
            let kind = debug.split(['(', ' ', '{']).next().unwrap_or_default().to_owned();
            ("refused", format!("{kind}: {}", e.detail().map_or_else(|| e.to_string(), str::to_owned)))
        }
    };
    println!("decision={verdict}");
    println!("detail={}", detail.replace('\n', " "));
    println!("blocks_decoded={}", work.blocks_decoded);
    println!("block_budget={}", work.block_budget);
    println!("bytes_inflated={}", work.bytes_inflated);
    println!("inflate_budget={}", work.inflate_budget);
    println!("within_budget={}", work.within_budget());
    ExitCode::SUCCESS
}
