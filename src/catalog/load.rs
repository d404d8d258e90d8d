//! Loading the catalog: the data file built into the binary, then the user's override files,
//! then a consistency check so a bad entry is reported once, at load, with its file.

use super::model::{CatalogFile, InstanceOverride, InstanceType, OverrideFile, RegionOffer};
use std::path::{Path, PathBuf};

/// The catalog shipped with gantry (`catalog/catalog.toml` in the repository).
pub const BUILTIN: &str = include_str!("../../catalog/catalog.toml");
/// Prices of resources that are not accelerator instances (`catalog/rates.toml`).
pub const BUILTIN_RATES: &str = include_str!("../../catalog/rates.toml");
/// An override file in the stack directory.
pub const OVERRIDE_FILE: &str = "gantry.catalog.toml";
/// An override file named by the environment.
pub const OVERRIDE_ENV: &str = "GANTRY_CATALOG_OVERRIDE";

/// Why the catalog cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read the catalog override `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The offending line of the file.
        source_line: String,
        message: String,
    },
    #[error("{}: {}", path.display(), problems.join("; "))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
}

/// Parses a whole catalog file.
pub fn parse_catalog(path: &Path, text: &str) -> Result<CatalogFile, CatalogError> {
    toml::from_str(text).map_err(|e| parse_error(path, text, &e))
}

/// Parses an override file.
pub fn parse_override(path: &Path, text: &str) -> Result<OverrideFile, CatalogError> {
    toml::from_str(text).map_err(|e| parse_error(path, text, &e))
}

fn parse_error(path: &Path, text: &str, e: &toml::de::Error) -> CatalogError {
    let offset = e.span().map_or(0, |s| s.start).min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let source_line = text[line_start..]
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    CatalogError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        source_line,
        message: e.message().to_owned(),
    }
}

/// Override files that apply to a stack in `dir`: `$GANTRY_CATALOG_OVERRIDE`, then
/// `<dir>/gantry.catalog.toml` (later files win).
pub fn override_paths(dir: Option<&Path>) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(p) = std::env::var_os(OVERRIDE_ENV).filter(|p| !p.is_empty()) {
        paths.push(PathBuf::from(p));
    }
    if let Some(dir) = dir {
        let local = dir.join(OVERRIDE_FILE);
        if local.is_file() {
            paths.push(local);
        }
    }
    paths
}

/// Applies an override file: accelerators and quotas replace entries of the same name/code,
/// instance fields replace the built-in entry's field by field, regions merge by region.
pub fn apply_override(base: &mut CatalogFile, over: OverrideFile) -> Vec<String> {
    let mut problems = Vec::new();
    base.sources.extend(over.sources);
    for a in over.accelerators {
        match base.accelerators.iter_mut().find(|b| b.name == a.name) {
            Some(existing) => *existing = a,
            None => base.accelerators.push(a),
        }
    }
    for q in over.quotas {
        match base
            .quotas
            .iter_mut()
            .find(|b| b.cloud == q.cloud && b.code == q.code)
        {
            Some(existing) => *existing = q,
            None => base.quotas.push(q),
        }
    }
    for r in over.rates {
        match base
            .rates
            .iter_mut()
            .find(|b| b.cloud == r.cloud && b.resource == r.resource && b.when == r.when)
        {
            Some(existing) => *existing = r,
            None => base.rates.push(r),
        }
    }
    for o in over.instances {
        match base
            .instances
            .iter_mut()
            .find(|b| b.cloud == o.cloud && b.type_name == o.type_name)
        {
            Some(existing) => merge_instance(existing, o),
            None => match new_instance(o) {
                Ok(i) => base.instances.push(i),
                Err(p) => problems.push(p),
            },
        }
    }
    problems
}

fn merge_instance(base: &mut InstanceType, o: InstanceOverride) {
    macro_rules! take {
        ($($field:ident),*) => { $( if let Some(v) = o.$field { base.$field = v; } )* };
    }
    take!(
        accelerator,
        accelerator_count,
        vcpus,
        memory_gib,
        interconnect,
        interconnect_gbps,
        network_interfaces
    );
    if o.quota.is_some() {
        base.quota = o.quota;
    }
    if o.spot_quota.is_some() {
        base.spot_quota = o.spot_quota;
    }
    if let Some(slice_node) = o.slice_node {
        base.slice_node = slice_node;
    }
    if o.topology.is_some() {
        base.topology = o.topology;
    }
    merge_regions(&mut base.regions, o.regions);
}

fn merge_regions(base: &mut Vec<RegionOffer>, over: Vec<RegionOffer>) {
    for mut r in over {
        match base.iter_mut().find(|b| b.region == r.region) {
            Some(existing) => {
                // A price correction need not repeat the zones or the spot price.
                if r.zones.is_empty() {
                    r.zones = std::mem::take(&mut existing.zones);
                }
                if r.spot.is_none() {
                    r.spot = existing.spot;
                }
                *existing = r;
            }
            None => base.push(r),
        }
    }
}

fn new_instance(o: InstanceOverride) -> Result<InstanceType, String> {
    let missing = |field: &str| {
        format!(
            "new instance type {} `{}` needs `{field}` (only corrections of built-in entries may leave fields out)",
            o.cloud, o.type_name
        )
    };
    Ok(InstanceType {
        accelerator: o
            .accelerator
            .clone()
            .ok_or_else(|| missing("accelerator"))?,
        accelerator_count: o
            .accelerator_count
            .ok_or_else(|| missing("accelerator_count"))?,
        vcpus: o.vcpus.ok_or_else(|| missing("vcpus"))?,
        memory_gib: o.memory_gib.ok_or_else(|| missing("memory_gib"))?,
        interconnect: o.interconnect.clone().unwrap_or_else(|| "Ethernet".into()),
        interconnect_gbps: o.interconnect_gbps.unwrap_or_default(),
        network_interfaces: o.network_interfaces.unwrap_or_default(),
        quota: o.quota.clone(),
        spot_quota: o.spot_quota.clone(),
        topology: o.topology.clone(),
        slice_node: o.slice_node.unwrap_or_default(),
        regions: o.regions.clone(),
        cloud: o.cloud,
        type_name: o.type_name,
    })
}

/// Everything wrong with a catalog, so a bad override is reported in one go.
pub fn check(catalog: &CatalogFile) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for i in &catalog.instances {
        let what = format!("{} `{}`", i.cloud, i.type_name);
        if !matches!(i.cloud.as_str(), "aws" | "gcp" | "azure") {
            problems.push(format!("{what}: cloud must be aws, gcp or azure"));
        }
        if !seen.insert((i.cloud.as_str(), i.type_name.as_str())) {
            problems.push(format!("{what}: listed twice"));
        }
        if !catalog.accelerators.iter().any(|a| a.name == i.accelerator) {
            problems.push(format!("{what}: unknown accelerator `{}`", i.accelerator));
        }
        if i.accelerator_count == 0 {
            problems.push(format!("{what}: accelerator_count must be at least 1"));
        }
        for code in i.quota.iter().chain(&i.spot_quota) {
            if !catalog
                .quotas
                .iter()
                .any(|q| q.cloud == i.cloud && &q.code == code)
            {
                problems.push(format!("{what}: unknown quota `{code}`"));
            }
        }
        if i.regions.is_empty() {
            problems.push(format!("{what}: offered in no region"));
        }
        for r in &i.regions {
            let priced = r.on_demand > 0.0 && r.on_demand.is_finite();
            if !priced || r.spot.is_some_and(|s| s <= 0.0 || !s.is_finite()) {
                problems.push(format!("{what} in {}: prices must be positive", r.region));
            }
        }
        if let Some(topology) = &i.topology {
            match super::spec::topology_chips(topology) {
                Some(chips) if chips == i.accelerator_count => {}
                Some(chips) => problems.push(format!(
                    "{what}: topology {topology} has {chips} chips, accelerator_count says {}",
                    i.accelerator_count
                )),
                None => problems.push(format!("{what}: invalid topology `{topology}`")),
            }
        }
    }
    for r in &catalog.rates {
        let priced = r.price > 0.0 && r.price.is_finite();
        let ok = match r.unit.as_str() {
            "usage" => true,
            "hour" | "month" => priced,
            "gib_month" => priced && r.quantity.is_some(),
            _ => false,
        };
        if !ok {
            problems.push(format!(
                "rate for {}: unit must be hour, month, gib_month (with quantity) or usage, with a positive price",
                r.resource
            ));
        }
    }
    for q in &catalog.quotas {
        if !matches!(q.unit.as_str(), "vcpus" | "gpus" | "chips") {
            problems.push(format!(
                "quota {}: unit must be vcpus, gpus or chips",
                q.code
            ));
        }
    }
    problems
}
