//! A database of one test's own on the test stack's Postgres, migrated, and
//! dropped when the test ends, passed or failed.

use sqlx::{Connection, PgConnection};

use crate::stack_var;

/// Dropped with `DROP DATABASE … WITH (FORCE)` when this value goes, which
/// it also does while a failing test unwinds; the sessions still open in it
/// (the test's pool, a console it started) are ended first.
pub struct TestDatabase {
    name: String,
    /// The test stack's owner role, on its maintenance database.
    maintenance: String,
}

impl TestDatabase {
    /// A new database named `{prefix}_{random}`, migrated, owned by the test
    /// stack's owner role.
    pub async fn create(prefix: &str) -> TestDatabase {
        let maintenance = stack_var("EASEL_TEST_DATABASE_URL");
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        easel_ops::stack::postgres::create_database(&maintenance, &name).await.expect("creating the test database");
        let db = TestDatabase { name, maintenance };
        easel_ops::stack::migrate(&db.url()).await.expect("migrating the test database");
        db
    }

    /// The random part of the name, to name the test's other resources by.
    pub fn tag(&self) -> &str {
        self.name.rsplit('_').next().unwrap_or(&self.name)
    }

    /// The database as its owner reaches it (the insider, who checks what
    /// really happened).
    pub fn url(&self) -> String {
        self.url_on(&self.maintenance)
    }

    /// The database through `server`: a URL of another role (the console's)
    /// or another route (a fault proxy) to any database of the same server.
    pub fn url_on(&self, server: &str) -> String {
        let (server, _) = server.rsplit_once('/').expect("a database URL ends in /<database>");
        format!("{server}/{}", self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime may be the one unwinding:
        // the drop runs on a thread and runtime of its own, waited for here.
        let (name, maintenance) = (self.name.clone(), self.maintenance.clone());
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&maintenance).await?;
                // The name passed create_database's check: plain letters, digits and underscores.
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
                anyhow::Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("the test database {} was not dropped: {e:#}", self.name),
            Err(_) => eprintln!("the test database {} was not dropped: the drop panicked", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exists(name: &str) -> bool {
        let mut conn = PgConnection::connect(&stack_var("EASEL_TEST_DATABASE_URL")).await.unwrap();
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_database_goes_with_its_test_passed_or_failed() {
        let passed = TestDatabase::create("easel_support").await;
        let name = passed.name.clone();
        // A session still open in it, as a test's pool or console leaves one.
        let pool = sqlx::PgPool::connect(&passed.url()).await.unwrap();
        assert!(exists(&name).await);
        drop(passed);
        assert!(!exists(&name).await, "dropped with its sessions open");
        drop(pool);

        let failed = tokio::spawn(async {
            let db = TestDatabase::create("easel_support").await;
            panic!("a failing test, its database {}", db.name);
        });
        let panic = failed.await.expect_err("the test failed").into_panic();
        let message = panic.downcast_ref::<String>().expect("a formatted panic message");
        let name = message.rsplit(' ').next().unwrap();
        assert!(!exists(name).await, "{name} stayed after its test failed");
    }
}
