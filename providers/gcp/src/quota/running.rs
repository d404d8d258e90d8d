//! What the project uses now of a quota Cloud Quotas reports only the limit of, counted
//! from what runs: Cloud TPU's nodes in the zone (per-zone TPU quotas), and the nodes of
//! GKE node pools in the region (GKE's v5p and v6e chip quotas, which its TPU machine
//! types draw on), each pool at the size its instance groups hold. Only what the catalog
//! prices against the quota is counted (`QuotaQuery::units_per_type`), on-demand and spot
//! apart.

use crate::errors::call_error;
use crate::resources::node_pool_size;
use crate::settings::Settings;
use gantry_provider::provider::Result;
use gantry_provider::QuotaQuery;
use google_cloud_container_v1::model::Cluster;
use google_cloud_tpu_v2::model::accelerator_config::Type as TpuType;
use google_cloud_tpu_v2::model::node::State as NodeState;
use google_cloud_tpu_v2::model::Node;

/// The units of `query` in use at `location` (a zone for Cloud TPU's quotas, a region
/// for Compute Engine's); `None` when gantry cannot count what uses the quota.
pub async fn count(settings: &Settings, query: &QuotaQuery, location: &str) -> Result<Option<f64>> {
    match query.service.as_str() {
        "tpu" => {
            let nodes = tpu_nodes(settings, location).await?;
            Ok(Some(tpu_usage(&nodes, query)))
        }
        "compute" => {
            let mut pools = gke_pools(settings, location).await?;
            // A pool that counts runs as many nodes as its instance groups hold now (an
            // autoscaled or resized pool is not at the count it was made with).
            for pool in pools
                .iter_mut()
                .filter(|p| query.units_per_type.contains_key(&p.machine_type))
            {
                if let Some(nodes) = node_pool_size::total(settings, &pool.instance_groups).await? {
                    pool.nodes = nodes;
                }
            }
            Ok(Some(node_pool_usage(&pools, query)))
        }
        _ => Ok(None),
    }
}

/// What one TPU node holds of a quota.
#[derive(Debug, Default)]
struct TpuNode {
    accelerator_type: String,
    /// The generation (`v5litepod`) and topology (`4x4`) of its `acceleratorConfig`.
    config: Option<(&'static str, String)>,
    spot: bool,
    deleting: bool,
}

impl From<&Node> for TpuNode {
    fn from(node: &Node) -> Self {
        let scheduling = node.scheduling_config.as_ref();
        TpuNode {
            accelerator_type: node.accelerator_type.clone(),
            config: node
                .accelerator_config
                .as_ref()
                .and_then(|c| generation_of_config(&c.r#type).map(|g| (g, c.topology.clone()))),
            spot: scheduling.is_some_and(|s| s.spot || s.preemptible),
            deleting: node.state == NodeState::Deleting,
        }
    }
}

/// What one GKE node pool's nodes hold of a quota.
#[derive(Debug, Default)]
struct PoolNodes {
    machine_type: String,
    spot: bool,
    /// As made (`initialNodeCount` in each zone), until its instance groups say.
    nodes: f64,
    instance_groups: Vec<String>,
}

/// Every Cloud TPU node of the project in `zone` (`nodes.list`, all pages).
async fn tpu_nodes(settings: &Settings, zone: &str) -> Result<Vec<TpuNode>> {
    let parent = format!("projects/{}/locations/{zone}", settings.project);
    let mut nodes = Vec::new();
    let mut page = String::new();
    loop {
        let listed = settings
            .clients
            .tpu
            .list_nodes()
            .set_parent(&parent)
            .set_page_token(&page)
            .send()
            .await
            .map_err(|e| call_error("nodes.list", e))?;
        nodes.extend(listed.nodes.iter().map(TpuNode::from));
        if listed.next_page_token.is_empty() {
            return Ok(nodes);
        }
        page = listed.next_page_token;
    }
}

/// The node pools of every GKE cluster of the project in `region` (`clusters.list` of
/// `locations/-`, which answers with each cluster's pools), each node of each of the
/// pool's zones, at the count it was made with (`initialNodeCount` per zone).
async fn gke_pools(settings: &Settings, region: &str) -> Result<Vec<PoolNodes>> {
    let listed = settings
        .clients
        .container
        .list_clusters()
        .set_parent(format!("projects/{}/locations/-", settings.project))
        .send()
        .await
        .map_err(|e| call_error("clusters.list", e))?;
    Ok(pools_in_region(&listed.clusters, region))
}

fn pools_in_region(clusters: &[Cluster], region: &str) -> Vec<PoolNodes> {
    let in_region = |location: &str| {
        location == region
            || crate::sim_model::region_of_zone(location).is_some_and(|r| r == region)
    };
    clusters
        .iter()
        .filter(|c| in_region(&c.location))
        .flat_map(|c| {
            c.node_pools.iter().map(|pool| {
                let zones = if pool.locations.is_empty() {
                    c.locations.len()
                } else {
                    pool.locations.len()
                };
                let config = pool.config.as_ref();
                PoolNodes {
                    machine_type: config.map(|n| n.machine_type.clone()).unwrap_or_default(),
                    spot: config.is_some_and(|n| n.spot || n.preemptible),
                    nodes: f64::from(pool.initial_node_count) * zones.max(1) as f64,
                    instance_groups: pool.instance_group_urls.clone(),
                }
            })
        })
        .collect()
}

/// The chips of the TPU nodes that count against the quota: spot ones (`spot` or
/// `preemptible`) for a spot quota, the others for an on-demand one, each by its
/// accelerator type's chips in the catalog, or by its topology when it was made from an
/// `acceleratorConfig` of a generation the quota counts. A node being deleted has given
/// its chips back.
fn tpu_usage(nodes: &[TpuNode], query: &QuotaQuery) -> f64 {
    let generations: Vec<&str> = query
        .units_per_type
        .keys()
        .filter_map(|t| t.rsplit_once('-').map(|(g, _)| g))
        .collect();
    nodes
        .iter()
        .filter(|n| !n.deleting && n.spot == query.spot)
        .map(|n| {
            if let Some(units) = query.units_per_type.get(&n.accelerator_type) {
                return *units;
            }
            match &n.config {
                Some((generation, topology)) if generations.contains(generation) => {
                    chips_of(topology)
                }
                _ => 0.0,
            }
        })
        .sum()
}

/// The accelerator type prefix of an `acceleratorConfig.type` (`V5LITE_POD`: `v5litepod`).
fn generation_of_config(kind: &TpuType) -> Option<&'static str> {
    Some(match kind {
        TpuType::V2 => "v2",
        TpuType::V3 => "v3",
        TpuType::V4 => "v4",
        TpuType::V5LitePod => "v5litepod",
        TpuType::V5P => "v5p",
        TpuType::V6E => "v6e",
        _ => return None,
    })
}

/// The chips of a slice topology (`4x4`: 16, `2x2x4`: 16).
fn chips_of(topology: &str) -> f64 {
    topology
        .split('x')
        .map(|d| d.trim().parse::<f64>().unwrap_or(0.0))
        .product()
}

/// The units of the pools whose machine type counts against the quota (`ct6e-standard-4t`:
/// 4 chips a node): spot pools for a spot quota, the others for an on-demand one.
fn node_pool_usage(pools: &[PoolNodes], query: &QuotaQuery) -> f64 {
    pools
        .iter()
        .filter(|p| p.spot == query.spot)
        .filter_map(|p| Some(query.units_per_type.get(&p.machine_type)? * p.nodes))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_container_v1::model::{NodeConfig, NodePool};
    use std::collections::BTreeMap;

    fn query(spot: bool, units: &[(&str, f64)]) -> QuotaQuery {
        QuotaQuery {
            service: "tpu".into(),
            code: "TPUV5sLitepodPerProjectPerZoneForTPUAPI".into(),
            region: Some("us-central1-a".into()),
            unit: "chips".into(),
            families: Vec::new(),
            units_per_type: units
                .iter()
                .map(|(t, u)| ((*t).to_owned(), *u))
                .collect::<BTreeMap<_, _>>(),
            spot,
        }
    }

    fn node(kind: &str, spot: bool) -> TpuNode {
        TpuNode {
            accelerator_type: kind.into(),
            spot,
            ..TpuNode::default()
        }
    }

    #[test]
    fn tpu_nodes_count_by_type_or_topology_on_demand_and_spot_apart() {
        let nodes = [
            node("v5litepod-16", false),
            TpuNode {
                config: Some(("v5litepod", "2x4".into())),
                ..TpuNode::default()
            },
            node("v5litepod-4", true),
            TpuNode {
                deleting: true,
                ..node("v5litepod-8", false)
            },
            node("v6e-8", false),
            TpuNode {
                config: Some(("v6e", "4x4".into())),
                ..TpuNode::default()
            },
        ];
        let units = [
            ("v5litepod-4", 4.0),
            ("v5litepod-8", 8.0),
            ("v5litepod-16", 16.0),
        ];
        assert_eq!(tpu_usage(&nodes, &query(false, &units)), 24.0);
        assert_eq!(tpu_usage(&nodes, &query(true, &units)), 4.0);
        assert_eq!(tpu_usage(&nodes, &query(false, &[])), 0.0);
    }

    #[test]
    fn node_pools_count_their_nodes_in_every_zone_of_the_region() {
        let cluster = |location: &str, zones: &[&str], pools: Vec<NodePool>| {
            Cluster::new()
                .set_location(location)
                .set_locations(zones.iter().map(|z| z.to_string()))
                .set_node_pools(pools)
        };
        let pool = |machine: &str, spot: bool, nodes: i32, zones: &[&str]| {
            NodePool::new()
                .set_config(NodeConfig::new().set_machine_type(machine).set_spot(spot))
                .set_initial_node_count(nodes)
                .set_locations(zones.iter().map(|z| z.to_string()))
        };
        let clusters = [
            cluster(
                "us-east1",
                &["us-east1-b", "us-east1-c", "us-east1-d"],
                vec![
                    pool("ct6e-standard-4t", false, 4, &["us-east1-d"]),
                    pool("ct6e-standard-1t", false, 1, &[]),
                    pool("ct6e-standard-4t", true, 2, &["us-east1-d"]),
                    pool("n2-standard-8", false, 3, &[]),
                ],
            ),
            cluster(
                "us-east1-d",
                &["us-east1-d"],
                vec![pool("ct6e-standard-4t", false, 1, &[])],
            ),
            cluster(
                "europe-west4",
                &[],
                vec![pool("ct6e-standard-4t", false, 8, &[])],
            ),
        ];
        let pools = pools_in_region(&clusters, "us-east1");
        let mut q = query(
            false,
            &[("ct6e-standard-1t", 1.0), ("ct6e-standard-4t", 4.0)],
        );
        q.service = "compute".into();
        // 4 nodes x 4 chips; 1 node x 1 chip in each of 3 zones; 1 x 4 in the zonal cluster.
        assert_eq!(node_pool_usage(&pools, &q), 16.0 + 3.0 + 4.0);
        q.spot = true;
        assert_eq!(node_pool_usage(&pools, &q), 8.0);
    }

    #[test]
    fn topologies_multiply_out() {
        assert_eq!(chips_of("2x2x4"), 16.0);
        assert_eq!(chips_of("16x16"), 256.0);
        assert_eq!(generation_of_config(&TpuType::V5P), Some("v5p"));
        assert_eq!(generation_of_config(&TpuType::Unspecified), None);
    }
}
