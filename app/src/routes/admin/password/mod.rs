mod get;
mod post;

pub use get::password_form;
pub use post::change_password;
