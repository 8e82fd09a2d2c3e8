//! `.sqlx/` describes every query the code's `sqlx::query!` macros hold, and
//! the build checks the queries against it without a database. Here each
//! description is checked against what the migrated schema answers now, so
//! a migration that changes a query's columns, types or nullability fails
//! the suite until `cargo ops queries` is run again.

use sqlx::{Executor, SqlSafeStr};

use crate::helpers::spawn_app;

#[tokio::test]
async fn queries_in_sqlx_match_the_schema() {
    let app = spawn_app().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.sqlx");
    let mut checked = 0;
    let mut drifted = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("`.sqlx/` (made by `cargo ops queries`)") {
        let path = entry.unwrap().path();
        let cached: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let sql = cached["query"].as_str().expect("each file holds its query");
        // Our own committed queries, described (prepared), never run.
        let sql_str = sqlx::AssertSqlSafe(sql.to_owned()).into_sql_str();
        let now = match (&app.pool).describe(sql_str).await {
            Ok(d) => serde_json::to_value(&d).unwrap(),
            Err(e) => {
                drifted.push(format!("{}: {e}\n  {sql}", path.display()));
                continue;
            }
        };
        if now != cached["describe"] {
            drifted.push(format!("{}:\n  cached {}\n  schema {now}\n  {sql}", path.display(), cached["describe"]));
        }
        checked += 1;
    }
    assert!(drifted.is_empty(), "run `cargo ops queries`; these no longer match the schema:\n{}", drifted.join("\n"));
    assert!(checked > 50, "only {checked} queries in {}", dir.display());
}
