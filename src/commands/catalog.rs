//! `gantry catalog`: browse the accelerator catalog, cheapest first.

use super::ExitStatus;
use crate::catalog::{self, Catalog, Offer, OfferFilter, Spec};
use crate::cli::CatalogArgs;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap};
use crate::ui::money::usd;
use crate::ui::Ui;
use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use std::io::IsTerminal;

pub fn run(args: &CatalogArgs, ui: Ui) -> ExitStatus {
    let fail = |d: Diagnostic| {
        ui.diagnostics(&Diagnostics::from(d), &SourceMap::new());
        ExitStatus::Failure
    };
    let catalog = match Catalog::load(Some(&args.dir)) {
        Ok(c) => c,
        Err(e) => return fail(catalog::diagnostic(&e)),
    };
    let mut filter = OfferFilter {
        cloud: args.cloud.clone(),
        region: args.region.clone(),
        max_price: args.max_price,
        spot: args.spot,
        ..OfferFilter::default()
    };
    if let Some(text) = &args.accelerator {
        let spec = match Spec::parse(text) {
            Ok(s) => s,
            Err(e) => return fail(Diagnostic::error(format!("invalid --accelerator: {e}"))),
        };
        filter.count = text.contains(':').then_some(spec.count);
        filter.accelerator = Some(spec.accelerator);
    }
    let offers = match catalog.offers(&filter) {
        Ok(o) => o,
        Err(e) => return fail(Diagnostic::error(e.to_string())),
    };
    if ui.json {
        for offer in &offers {
            ui.json_line(&offer_json(&catalog, offer, args.spot));
        }
        return ExitStatus::Success;
    }
    let data = catalog.data();
    ui.status(&format!(
        "Accelerator catalog {}, prices of {} in USD per hour ({}){}",
        data.version.as_deref().unwrap_or("(unversioned)"),
        data.taken.as_deref().unwrap_or("an unknown date"),
        if args.spot { "spot" } else { "on-demand" },
        if catalog.overrides.is_empty() {
            String::new()
        } else {
            let paths: Vec<String> = catalog
                .overrides
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            format!(", with overrides from {}", paths.join(", "))
        }
    ));
    if offers.is_empty() {
        ui.status("Nothing in the catalog matches these filters.");
        return ExitStatus::Success;
    }
    ui.data(&table(&catalog, &offers, args.spot).to_string());
    ui.data("\n");
    ExitStatus::Success
}

fn table(catalog: &Catalog, offers: &[Offer<'_>], spot: bool) -> Table {
    let mut table = Table::new();
    let terminal = std::io::stdout().is_terminal();
    table
        .load_preset(if terminal {
            presets::UTF8_HORIZONTAL_ONLY
        } else {
            presets::NOTHING
        })
        .set_content_arrangement(if terminal {
            ContentArrangement::Dynamic
        } else {
            ContentArrangement::Disabled
        })
        .set_header(vec![
            "CLOUD",
            "INSTANCE TYPE",
            "ACCELERATORS",
            "ACC MEM",
            "VCPUS",
            "MEMORY",
            "INTERCONNECT",
            "REGION",
            "ZONES",
            if spot { "SPOT $/H" } else { "$/H" },
            "QUOTA",
        ]);
    for o in offers {
        let i = o.instance;
        let memory = catalog
            .accelerator(&i.accelerator)
            .map_or(0.0, |a| a.memory_gib);
        let accelerators = match &i.topology {
            Some(t) => format!("{} x {} ({t})", i.accelerator_count, i.accelerator),
            None => format!("{} x {}", i.accelerator_count, i.accelerator),
        };
        let interconnect = if i.interconnect_gbps > 0.0 {
            format!("{} {} Gbps", i.interconnect, i.interconnect_gbps)
        } else {
            i.interconnect.clone()
        };
        table.add_row(vec![
            i.cloud.clone(),
            i.type_name.clone(),
            accelerators,
            format!("{memory} GiB"),
            i.vcpus.to_string(),
            format!("{} GiB", i.memory_gib),
            interconnect,
            o.region.region.clone(),
            o.region.zones.len().to_string(),
            usd(o.hourly),
            (if spot {
                i.spot_quota.clone()
            } else {
                i.quota.clone()
            })
            .unwrap_or_default(),
        ]);
    }
    for column in [3, 4, 5, 8, 9] {
        if let Some(c) = table.column_mut(column) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

fn offer_json(catalog: &Catalog, o: &Offer<'_>, spot: bool) -> serde_json::Value {
    let i = o.instance;
    serde_json::json!({
        "cloud": i.cloud,
        "instance_type": i.type_name,
        "accelerator": i.accelerator,
        "accelerator_count": i.accelerator_count,
        "accelerator_memory_gib": catalog.accelerator(&i.accelerator).map(|a| a.memory_gib),
        "vcpus": i.vcpus,
        "memory_gib": i.memory_gib,
        "interconnect": i.interconnect,
        "interconnect_gbps": i.interconnect_gbps,
        "network_interfaces": i.network_interfaces,
        "topology": i.topology,
        "region": o.region.region,
        "zones": o.region.zones,
        "hourly": o.hourly,
        "market": if spot { "spot" } else { "on_demand" },
        "on_demand_hourly": o.region.on_demand,
        "spot_hourly": o.region.spot,
        "quota": if spot { &i.spot_quota } else { &i.quota },
    })
}
