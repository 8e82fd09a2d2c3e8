use leptos::prelude::*;

use crate::pages::layout::Scrolls;

use super::{AdminLayout, CsrfField, StaffView};
use crate::auth::User;

#[derive(Debug, Clone)]
pub struct UsersModel {
    pub staff: StaffView,
    pub users: Vec<User>,
    pub error: Option<String>,
}

pub fn page(m: UsersModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        let csrf = m.staff.csrf.clone();
        let me = m.staff.email.clone();
        let rows = m
            .users
            .into_iter()
            .map(|u| {
                let csrf = csrf.clone();
                let disabled = u.disabled_at.is_some();
                let is_me = u.email.as_str() == me;
                view! {
                    <tr>
                        <td>{u.email.to_string()}</td>
                        <td>{u.role.to_string()}</td>
                        <td>{if disabled { "disabled" } else if u.must_change_password { "one-time password" } else { "active" }}</td>
                        <td class="actions">
                            {(!disabled && !is_me).then(|| view! {
                                <form class="inline" method="post" action=format!("/admin/users/{}/reset", u.id)>
                                    <CsrfField token=csrf.clone()/>
                                    <button type="submit">"Reset password"</button>
                                </form>
                                <form class="inline" method="post" action=format!("/admin/users/{}/disable", u.id)>
                                    <CsrfField token=csrf.clone()/>
                                    <button type="submit" class="danger">"Disable"</button>
                                </form>
                            })}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <AdminLayout title="Accounts".to_string() staff=m.staff>
                <h1>"Accounts"</h1>
                {m.error.map(|e| view! { <p class="reason" role="alert">{e}</p> })}
                <Scrolls label="Accounts">
                    <table>
                        <thead><tr><th>"E-mail"</th><th>"Role"</th><th>"State"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </Scrolls>
                <h2>"New account"</h2>
                <form class="panel" method="post" action="/admin/users">
                    <CsrfField token=csrf.clone()/>
                    <label for="email">"E-mail"</label>
                    <input id="email" name="email" type="email" required=true/>
                    <label for="role">"Role"</label>
                    <select id="role" name="role">
                        <option value="support">"support"</option>
                        <option value="admin">"admin"</option>
                    </select>
                    <button type="submit">"Create account"</button>
                </form>
            </AdminLayout>
        }
        .into_any()
    }
}

/// Shows a new one-time password exactly once.
pub fn one_time_password_page(
    staff: StaffView,
    email: String,
    password: String,
) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let (email, password) = (email.clone(), password.clone());
        view! {
            <AdminLayout title="One-time password".to_string() staff=staff.clone()>
                <h1>"One-time password"</h1>
                <p>{format!("Give this one-time password to {email}. It is shown only now; they must change it when they first sign in.")}</p>
                <p><code class="secret">{password}</code></p>
                <p><a href="/admin/users">"Back to accounts"</a></p>
            </AdminLayout>
        }
        .into_any()
    }
}
