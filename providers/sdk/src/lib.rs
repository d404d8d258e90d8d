//! The gantry provider interface: the values, types and schemas shared by the engine and by
//! every cloud provider. It depends on nothing heavy so that provider crates (and their big
//! cloud SDKs) never rebuild when the engine changes.

pub mod convert;
pub mod types;
pub mod value;

pub use convert::ConvertError;
pub use types::{ObjectAttr, Type};
pub use value::Value;
