//! The local mail sink: maildev, an SMTP server with a web inbox, so an
//! e-mailed link can be read and clicked.

use std::time::Duration;

use tokio::process::Command;

use super::{
    install,
    paths::{StackDir, workspace_root},
    process::{self, Service},
};

pub struct MailSink {
    pub service: Service,
    pub smtp_url: String,
    pub inbox_url: String,
}

pub async fn start(dir: &StackDir, smtp_port: u16, web_port: u16) -> anyhow::Result<MailSink> {
    let pkg = workspace_root().join("ops/mail");
    install::npm_packages(&pkg, "the local mail sink (maildev)").await?;
    if let Some(note) = process::stop_stale(&dir.pid_file("maildev"), "maildev")? {
        println!("• {note}");
    }
    process::ensure_port_free(smtp_port, "the mail sink's SMTP", "EASEL_LOCAL_SMTP_PORT")?;
    process::ensure_port_free(web_port, "the mail sink's inbox", "EASEL_LOCAL_MAIL_PORT")?;
    std::fs::create_dir_all(dir.mail())?;
    let mut cmd = Command::new("node");
    cmd.arg(pkg.join("node_modules/.bin/maildev"))
        .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1"])
        .args(["--smtp", &smtp_port.to_string(), "--web", &web_port.to_string()])
        .arg("--mail-directory")
        .arg(dir.mail());
    let log = dir.log("maildev");
    let mut service = Service::spawn("maildev", cmd, &log, dir.pid_file("maildev"))?;
    process::wait_for_port(web_port, "the mail sink", Some(service.child_mut()), &log, Duration::from_secs(30)).await?;
    process::wait_for_port(smtp_port, "the mail sink's SMTP", Some(service.child_mut()), &log, Duration::from_secs(10))
        .await?;
    Ok(MailSink {
        service,
        smtp_url: format!("smtp://127.0.0.1:{smtp_port}"),
        inbox_url: format!("http://127.0.0.1:{web_port}"),
    })
}
