use leptos::prelude::*;

use super::{AdminLayout, StaffView};
use crate::audit::ChainVerdict;

#[derive(Debug, Clone)]
pub struct DashboardModel {
    pub staff: StaffView,
    pub notice: Option<String>,
    pub artworks: i64,
    pub processing: i64,
    pub chain: ChainVerdict,
}

pub fn page(m: DashboardModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        view! {
            <AdminLayout title="Dashboard".to_string() staff=m.staff>
                <h1>"Dashboard"</h1>
                {m.notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
                <ul class="figures">
                    <li><strong>{m.artworks}</strong>" artworks uploaded"</li>
                    <li><strong>{m.processing}</strong>" still processing"</li>
                    <li><a href="/admin/audit">{super::audit::verdict_text(&m.chain)}</a></li>
                </ul>
            </AdminLayout>
        }
        .into_any()
    }
}
