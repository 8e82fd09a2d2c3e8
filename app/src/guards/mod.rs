//! Middleware in front of the console's routes: who may reach a page
//! (`staff`) and what a decommission allows (`decommission`). Part of the
//! web layer; the rules they apply live in `auth` and `gate`.

pub mod decommission;
pub mod staff;
