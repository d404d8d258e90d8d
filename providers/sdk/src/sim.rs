//! What a provider tells its simulated twin (`--sim`) about its cloud, so simulated objects
//! look like the cloud's own: id formats, the cloud's not-found error code, ARNs or resource
//! names, realistic computed attributes (an instance's private IP inside its subnet, a
//! bucket whose id is its name), and the answers of data sources that describe the
//! account. The simulator itself knows no cloud.

use crate::value::Value;

/// How ids of a resource type look in the cloud.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdStyle {
    /// `<prefix>-0123456789abcdef0`, EC2 style.
    Prefixed(String),
    /// The object's `name` attribute is its id (placement groups, S3 buckets use `bucket`).
    Attribute(String),
    /// A path built from attributes and the generated suffix, `{name}` replaced by the
    /// attribute and `{id}` by a generated hex id
    /// (`projects/{project}/zones/{zone}/instances/{name}`).
    Template(String),
}

/// What the simulator can look up while it fills a new object in.
pub trait SimWorldView {
    /// The attributes of the object with this id (any type), if it exists.
    fn object(&self, id: &str) -> Option<Value>;
}

/// The facts of one object being created, for [`SimModel::computed`].
pub struct SimObjectFacts<'a> {
    pub type_name: &'a str,
    pub id: &'a str,
    pub region: &'a str,
    /// The configured attributes (computed ones still unknown or null).
    pub planned: &'a Value,
    /// A number unique to this object, for addresses and names derived from it.
    pub serial: u64,
}

/// A provider's description of its cloud for the simulator.
pub trait SimModel: Send + Sync {
    /// How ids of `type_name` look; `None`: a generic prefixed id.
    fn id_style(&self, type_name: &str) -> Option<IdStyle> {
        let _ = type_name;
        None
    }

    /// The error code the cloud answers when an object of `type_name` is missing.
    fn not_found_code(&self, type_name: &str) -> Option<String> {
        let _ = type_name;
        None
    }

    /// The error code the cloud answers when an object of `type_name` with this id already
    /// exists.
    fn duplicate_code(&self, type_name: &str) -> Option<String> {
        let _ = type_name;
        None
    }

    /// A realistic value of computed attribute `name` of a new object, or `None` to let the
    /// simulator generate a generic one. `world` resolves references (the subnet an
    /// instance is in, for its IP).
    fn computed(
        &self,
        object: &SimObjectFacts<'_>,
        name: &str,
        world: &dyn SimWorldView,
    ) -> Option<Value> {
        let _ = (object, name, world);
        None
    }

    /// The simulated answer of a data source that describes the account or region
    /// (availability zones, the caller's identity), given its configuration: attributes to
    /// set. `None`: the generic fill. `settings`: the provider block's plain string
    /// settings (a Google Cloud `project`).
    fn read_data(
        &self,
        type_name: &str,
        config: &Value,
        region: &str,
        settings: &std::collections::BTreeMap<String, String>,
    ) -> Option<Value> {
        let _ = (type_name, config, region, settings);
        None
    }

    /// The region a zone belongs to (`us-east-1a` -> `us-east-1`).
    fn region_of_zone(&self, zone: &str) -> Option<String> {
        let _ = zone;
        None
    }
}
