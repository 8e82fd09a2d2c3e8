use leptos::prelude::*;

use crate::pages::Layout;

#[derive(Debug, Clone, Default)]
pub struct LoginModel {
    pub csrf: String,
    pub next: String,
    pub email: String,
    pub error: Option<String>,
}

pub fn page(m: LoginModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        view! {
            <Layout title="Sign in".to_string()>
                <h1>"Sign in to Easel"</h1>
                {m.error.map(|e| view! { <p class="reason" role="alert">{e}</p> })}
                <form class="panel" method="post" action="/admin/login">
                    <input type="hidden" name="csrf" value=m.csrf/>
                    <input type="hidden" name="next" value=m.next/>
                    <label for="email">"E-mail"</label>
                    <input id="email" name="email" type="email" autocomplete="username" value=m.email required=true/>
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required=true/>
                    <button type="submit">"Sign in"</button>
                </form>
            </Layout>
        }
        .into_any()
    }
}
