//! Questions asked of the catalog: which instance type satisfies a spec in a region, where a
//! spec is offered at all, and the filtered, price-sorted offers `gantry catalog` shows.

use super::model::{InstanceType, RegionOffer};
use super::{Catalog, Spec};
use std::collections::BTreeMap;
use std::fmt;

/// One instance type in one region, at the price that applies.
#[derive(Clone, Debug)]
pub struct Offer<'c> {
    pub instance: &'c InstanceType,
    pub region: &'c RegionOffer,
    /// Hourly price: on-demand, or spot when asked for spot.
    pub hourly: f64,
}

/// Why a spec has no instance type on a cloud and region.
#[derive(Clone, Debug, PartialEq)]
pub enum Unsatisfied {
    UnknownAccelerator {
        name: String,
        known: Vec<String>,
    },
    UnknownCloud(String),
    NotOffered {
        spec: String,
        cloud: String,
        region: Option<String>,
        /// `aws p5.48xlarge: us-east-1, us-west-2`, for every cloud.
        elsewhere: Vec<String>,
        /// Counts of this accelerator per instance on the chosen cloud, when the count is the
        /// problem (`1, 2, 4, 8`).
        counts_here: Vec<u32>,
    },
}

impl fmt::Display for Unsatisfied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsatisfied::UnknownAccelerator { name, known } => write!(
                f,
                "the catalog has no accelerator `{name}`; known: {}",
                known.join(", ")
            ),
            Unsatisfied::UnknownCloud(cloud) => {
                write!(f, "unknown cloud `{cloud}`; use aws, gcp or azure")
            }
            Unsatisfied::NotOffered {
                spec,
                cloud,
                region,
                elsewhere,
                counts_here,
            } => {
                match region {
                    Some(r) => write!(f, "`{spec}` is not offered on {cloud} in {r}")?,
                    None => write!(f, "`{spec}` is not offered on {cloud}")?,
                }
                if !counts_here.is_empty() {
                    let counts: Vec<String> = counts_here.iter().map(u32::to_string).collect();
                    write!(f, " (counts per instance there: {})", counts.join(", "))?;
                }
                if elsewhere.is_empty() {
                    write!(f, "; no cloud in the catalog offers it")
                } else {
                    write!(f, "; offered: {}", elsewhere.join("; "))
                }
            }
        }
    }
}

const CLOUDS: &[&str] = &["aws", "gcp", "azure"];

fn check_cloud(cloud: Option<&str>) -> Result<(), Unsatisfied> {
    match cloud {
        Some(c) if !CLOUDS.contains(&c) => Err(Unsatisfied::UnknownCloud(c.to_owned())),
        _ => Ok(()),
    }
}

impl Catalog {
    /// An accelerator by name or alias, or the error listing the known ones.
    fn known_accelerator(&self, name: &str) -> Result<&super::Accelerator, Unsatisfied> {
        self.accelerator(name)
            .ok_or_else(|| Unsatisfied::UnknownAccelerator {
                name: name.to_owned(),
                known: self
                    .data()
                    .accelerators
                    .iter()
                    .map(|a| a.name.clone())
                    .collect(),
            })
    }

    /// Instance types carrying exactly `spec` (any cloud when `cloud` is `None`).
    pub fn satisfying(
        &self,
        cloud: Option<&str>,
        spec: &Spec,
    ) -> Result<Vec<&InstanceType>, Unsatisfied> {
        check_cloud(cloud)?;
        let accelerator = self.known_accelerator(&spec.accelerator)?;
        Ok(self
            .instances()
            .iter()
            .filter(|i| {
                i.accelerator == accelerator.name
                    && i.accelerator_count == spec.count
                    && !i.slice_node
                    && cloud.is_none_or(|c| i.cloud == c)
            })
            .collect())
    }

    /// The instance types satisfying `spec` in `region` of `cloud`, cheapest first.
    pub fn offers_for(
        &self,
        cloud: &str,
        spec: &Spec,
        region: &str,
    ) -> Result<Vec<Offer<'_>>, Unsatisfied> {
        let mut offers: Vec<Offer<'_>> = self
            .satisfying(Some(cloud), spec)?
            .into_iter()
            .filter_map(|i| {
                i.offer(region).map(|r| Offer {
                    instance: i,
                    region: r,
                    hourly: r.on_demand,
                })
            })
            .collect();
        if offers.is_empty() {
            return Err(self.not_offered(cloud, spec, Some(region)));
        }
        sort_offers(&mut offers);
        Ok(offers)
    }

    /// The cheapest instance type satisfying `spec` in `region`.
    pub fn choose(&self, cloud: &str, spec: &Spec, region: &str) -> Result<Offer<'_>, Unsatisfied> {
        let offers = self.offers_for(cloud, spec, region)?;
        offers
            .into_iter()
            .next()
            .ok_or_else(|| self.not_offered(cloud, spec, Some(region)))
    }

    fn not_offered(&self, cloud: &str, spec: &Spec, region: Option<&str>) -> Unsatisfied {
        let elsewhere = self
            .satisfying(None, spec)
            .unwrap_or_default()
            .into_iter()
            .map(|i| {
                let regions: Vec<&str> = i.regions.iter().map(|r| r.region.as_str()).collect();
                format!("{} {} in {}", i.cloud, i.type_name, regions.join(", "))
            })
            .collect();
        let canonical = self
            .accelerator(&spec.accelerator)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let mut counts: Vec<u32> = self
            .instances()
            .iter()
            .filter(|i| i.cloud == cloud && i.accelerator == canonical)
            .filter(|i| region.is_none_or(|r| i.offer(r).is_some()))
            .map(|i| i.accelerator_count)
            .collect();
        counts.sort_unstable();
        counts.dedup();
        if counts.contains(&spec.count) {
            counts.clear();
        }
        Unsatisfied::NotOffered {
            spec: spec.to_string(),
            cloud: cloud.to_owned(),
            region: region.map(str::to_owned),
            elsewhere,
            counts_here: counts,
        }
    }

    /// Offers matching a filter, cheapest first; the browsing view of `gantry catalog`.
    pub fn offers(&self, filter: &OfferFilter) -> Result<Vec<Offer<'_>>, Unsatisfied> {
        let accelerator = match &filter.accelerator {
            Some(name) => Some(self.known_accelerator(name)?.name.clone()),
            None => None,
        };
        check_cloud(filter.cloud.as_deref())?;
        let mut offers = Vec::new();
        for i in self.instances() {
            let wanted = accelerator.as_ref().is_none_or(|a| &i.accelerator == a)
                && filter.count.is_none_or(|n| i.accelerator_count == n)
                && filter.cloud.as_ref().is_none_or(|c| &i.cloud == c);
            if !wanted {
                continue;
            }
            for r in &i.regions {
                if filter.region.as_ref().is_some_and(|want| &r.region != want) {
                    continue;
                }
                let hourly = if filter.spot {
                    r.spot
                } else {
                    Some(r.on_demand)
                };
                let Some(hourly) = hourly else { continue };
                if filter.max_price.is_some_and(|max| hourly > max) {
                    continue;
                }
                offers.push(Offer {
                    instance: i,
                    region: r,
                    hourly,
                });
            }
        }
        sort_offers(&mut offers);
        Ok(offers)
    }

    /// Units of a quota that one instance of each type uses (for usage counting).
    pub fn quota_units(&self, cloud: &str, code: &str, unit: &str) -> BTreeMap<String, f64> {
        self.instances()
            .iter()
            .filter(|i| {
                i.cloud == cloud
                    && (i.quota.as_deref() == Some(code) || i.spot_quota.as_deref() == Some(code))
            })
            .map(|i| (i.type_name.clone(), units_of(i, unit)))
            .collect()
    }
}

/// What one instance uses of a quota counted in `unit`.
pub fn units_of(instance: &InstanceType, unit: &str) -> f64 {
    match unit {
        "gpus" | "chips" => f64::from(instance.accelerator_count),
        _ => f64::from(instance.vcpus),
    }
}

fn sort_offers(offers: &mut [Offer<'_>]) {
    offers.sort_by(|a, b| {
        a.hourly
            .total_cmp(&b.hourly)
            .then_with(|| a.instance.type_name.cmp(&b.instance.type_name))
            .then_with(|| a.region.region.cmp(&b.region.region))
    });
}

/// The filters of `gantry catalog`.
#[derive(Clone, Debug, Default)]
pub struct OfferFilter {
    pub accelerator: Option<String>,
    pub count: Option<u32>,
    pub cloud: Option<String>,
    pub region: Option<String>,
    pub max_price: Option<f64>,
    pub spot: bool,
}
