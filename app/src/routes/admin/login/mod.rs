mod get;
mod post;

pub use get::login_form;
pub use post::sign_in;
