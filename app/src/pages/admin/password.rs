use leptos::prelude::*;

use super::{AdminLayout, CsrfField, StaffView};
use crate::auth::password::MIN_LENGTH;

#[derive(Debug, Clone)]
pub struct PasswordModel {
    pub staff: StaffView,
    pub must_change: bool,
    pub error: Option<String>,
}

pub fn page(m: PasswordModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        let csrf = m.staff.csrf.clone();
        let csrf_everywhere = csrf.clone();
        view! {
            <AdminLayout title="Change password".to_string() staff=m.staff>
                <h1>"Change your password"</h1>
                {m.must_change.then(|| view! {
                    <p class="notice" role="status">"You signed in with a one-time password. Choose your own before you go on."</p>
                })}
                {m.error.map(|e| view! { <p class="reason" role="alert">{e}</p> })}
                <form class="panel" method="post" action="/admin/password">
                    <CsrfField token=csrf/>
                    <label for="current">"Current password"</label>
                    <input id="current" name="current" type="password" autocomplete="current-password" required=true/>
                    <label for="new">{format!("New password (at least {MIN_LENGTH} characters)")}</label>
                    <input id="new" name="new" type="password" autocomplete="new-password" required=true/>
                    <label for="confirm">"New password again"</label>
                    <input id="confirm" name="confirm" type="password" autocomplete="new-password" required=true/>
                    <button type="submit">"Change password"</button>
                </form>
                <form class="panel" method="post" action="/admin/sign-out-everywhere">
                    <CsrfField token=csrf_everywhere/>
                    <p>"Changing your password signs you out on every other device. To end every session now, this one included:"</p>
                    <button type="submit">"Sign out everywhere"</button>
                </form>
            </AdminLayout>
        }
        .into_any()
    }
}
