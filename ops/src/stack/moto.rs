//! The local AWS: moto's server from the project venv, on loopback.

use std::time::Duration;

use tokio::process::Command;

use super::{
    install,
    paths::StackDir,
    process::{self, Service},
};

pub async fn start(dir: &StackDir, port: u16) -> anyhow::Result<(Service, String)> {
    let venv = install::moto_venv().await?;
    if let Some(note) = process::stop_stale(&dir.pid_file("moto"), "moto_server")? {
        println!("• {note}");
    }
    process::ensure_port_free(port, "the local AWS emulator (moto)", "EASEL_LOCAL_AWS_PORT")?;
    let mut cmd = Command::new(venv.join("bin/moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let log = dir.log("moto");
    let mut svc = Service::spawn("moto", cmd, &log, dir.pid_file("moto"))?;
    process::wait_for_port(port, "the moto server", Some(svc.child_mut()), &log, Duration::from_secs(60)).await?;
    Ok((svc, format!("http://127.0.0.1:{port}")))
}
