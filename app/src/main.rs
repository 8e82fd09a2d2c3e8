use anyhow::Context;
use easel_app::{settings::Settings, startup::Application};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("EASEL_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    let settings = Settings::from_env().context("reading settings from the environment")?;
    let app = Application::build(&settings).await?;
    tracing::info!("Easel console on http://{}", app.local_addr());
    app.run_until_stopped(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
