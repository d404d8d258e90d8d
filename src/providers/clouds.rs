//! The cloud providers of this build: one line each, behind the cargo feature of the same
//! name. This is the only place in the engine that names a cloud (see providers/README.md).

use super::Providers;
#[allow(unused_imports)]
use gantry_provider::Provider;
#[allow(unused_imports)]
use std::sync::Arc;

/// Registers every cloud provider compiled in.
pub fn register(providers: &mut Providers) {
    #[cfg(feature = "aws")]
    providers.register(Arc::new(|| {
        Arc::new(gantry_aws::AwsProvider::new()) as Arc<dyn Provider>
    }));
    #[cfg(feature = "gcp")]
    providers.register(Arc::new(|| {
        Arc::new(gantry_gcp::GcpProvider::new()) as Arc<dyn Provider>
    }));
    #[cfg(feature = "azure")]
    providers.register(Arc::new(|| {
        Arc::new(gantry_azure::AzureProvider::new()) as Arc<dyn Provider>
    }));
    let _ = providers;
}
