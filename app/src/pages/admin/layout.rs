use leptos::prelude::*;

use crate::{
    auth::{Role, Session},
    pages::layout::Document,
};

/// What every admin page shows of the signed-in person.
#[derive(Debug, Clone)]
pub struct StaffView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    /// A decommission under way: shown at the top of every admin page.
    pub banner: Option<String>,
}

impl From<&Session> for StaffView {
    fn from(s: &Session) -> Self {
        StaffView {
            email: s.user.email.to_string(),
            role: s.user.role,
            csrf: s.csrf_token.clone(),
            banner: s.decommission_banner.clone(),
        }
    }
}

/// The hidden field every signed-in form carries.
#[component]
pub fn CsrfField(token: String) -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=token/> }
}

/// A form that is one button: a signed-in action on one thing.
#[component]
pub fn ButtonForm(action: String, csrf: String, label: &'static str) -> impl IntoView {
    view! {
        <form class="inline" method="post" action=action>
            <CsrfField token=csrf/>
            <button type="submit">{label}</button>
        </form>
    }
}

#[component]
pub fn AdminLayout(title: String, staff: StaffView, children: Children) -> impl IntoView {
    let is_admin = staff.role == Role::Admin;
    view! {
        <Document title=format!("{title} · Easel admin") body_class=Some("admin")>
            <header class="site">
                <a class="brand" href="/admin">"Easel admin"</a>
                <nav>
                    <a href="/admin">"Dashboard"</a>
                    <a href="/admin/doctor">"Doctor"</a>
                    <a href="/admin/uploads">"Uploads"</a>
                    <a href="/admin/logs">"Logs"</a>
                    <a href="/admin/backups">"Backups"</a>
                    <a href="/admin/audit">"Audit trail"</a>
                    {is_admin.then(|| view! { <a href="/admin/users">"Accounts"</a> })}
                    {is_admin.then(|| view! { <a href="/admin/decommission">"Decommission"</a> })}
                    <a href="/admin/password">"Password"</a>
                    <span class="who">{format!("{} ({})", staff.email, staff.role)}</span>
                    <form class="inline" method="post" action="/admin/logout">
                        <CsrfField token=staff.csrf.clone()/>
                        <button type="submit" class="link">"Sign out"</button>
                    </form>
                </nav>
            </header>
            {staff.banner.clone().map(|b| view! {
                <p class="decommission-banner" role="status"><a href="/admin/decommission">{b}</a></p>
            })}
            <main>{children()}</main>
        </Document>
    }
}
