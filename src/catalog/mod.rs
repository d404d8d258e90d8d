//! The accelerator catalog: which instance types carry which accelerators on AWS, Google
//! Cloud and Azure, where they are offered, what they cost per hour and which quota governs
//! them. The data is `catalog/catalog.toml` (built in, dated and sourced) plus the user's
//! override files; stacks reach it through the `accelerator_*` functions, plans through
//! [`cost`] and [`preflight`](crate::plan::preflight).

pub mod cost;
pub mod load;
pub mod model;
pub mod query;
pub mod spec;

pub use load::CatalogError;
pub use model::{Accelerator, CatalogFile, InstanceType, Quota, RegionOffer};
pub use query::{Offer, OfferFilter, Unsatisfied};
pub use spec::Spec;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The catalog a run uses.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    data: CatalogFile,
    /// Override files applied on top of the built-in data.
    pub overrides: Vec<PathBuf>,
}

impl Catalog {
    /// The built-in data alone.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        let path = Path::new("catalog/catalog.toml");
        let mut data = load::parse_catalog(path, load::BUILTIN)?;
        let rates_path = Path::new("catalog/rates.toml");
        let rates = load::parse_catalog(rates_path, load::BUILTIN_RATES)?;
        data.sources.extend(rates.sources);
        data.rates.extend(rates.rates);
        Catalog::checked(data, path, Vec::new())
    }

    /// The built-in data with the overrides that apply to a stack in `dir`.
    pub fn load(dir: Option<&Path>) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::builtin()?;
        for path in load::override_paths(dir) {
            catalog = catalog.with_override_file(&path)?;
        }
        Ok(catalog)
    }

    /// Applies one override file.
    pub fn with_override_file(self, path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.with_override_text(path, &text)
    }

    /// Applies override text read from `path`.
    pub fn with_override_text(self, path: &Path, text: &str) -> Result<Catalog, CatalogError> {
        let over = load::parse_override(path, text)?;
        let Catalog {
            mut data,
            mut overrides,
        } = self;
        let problems = load::apply_override(&mut data, over);
        if !problems.is_empty() {
            return Err(CatalogError::Invalid {
                path: path.to_path_buf(),
                problems,
            });
        }
        overrides.push(path.to_path_buf());
        Catalog::checked(data, path, overrides)
    }

    fn checked(
        data: CatalogFile,
        path: &Path,
        overrides: Vec<PathBuf>,
    ) -> Result<Catalog, CatalogError> {
        let problems = load::check(&data);
        if problems.is_empty() {
            Ok(Catalog { data, overrides })
        } else {
            Err(CatalogError::Invalid {
                path: path.to_path_buf(),
                problems,
            })
        }
    }

    pub fn data(&self) -> &CatalogFile {
        &self.data
    }

    /// Hours in a month for monthly figures (730, as the clouds' calculators use).
    pub fn hours_per_month(&self) -> f64 {
        self.data.hours_per_month.unwrap_or(730.0)
    }

    /// An accelerator by name or alias, ignoring case.
    pub fn accelerator(&self, name: &str) -> Option<&Accelerator> {
        self.data.accelerators.iter().find(|a| {
            a.name.eq_ignore_ascii_case(name)
                || a.aliases.iter().any(|x| x.eq_ignore_ascii_case(name))
        })
    }

    pub fn instance(&self, cloud: &str, type_name: &str) -> Option<&InstanceType> {
        self.data
            .instances
            .iter()
            .find(|i| i.cloud == cloud && i.type_name == type_name)
    }

    pub fn quota(&self, cloud: &str, code: &str) -> Option<&Quota> {
        self.data
            .quotas
            .iter()
            .find(|q| q.cloud == cloud && q.code == code)
    }

    pub fn instances(&self) -> &[InstanceType] {
        &self.data.instances
    }
}

/// The built-in data, parsed once (it is embedded in the binary and never changes; a stack's
/// own catalog, with its override files, lives in its [`crate::config::load::Stack`]).
pub fn builtin() -> &'static Catalog {
    builtin_shared()
}

/// [`builtin`], shared.
pub fn builtin_shared() -> &'static std::sync::Arc<Catalog> {
    static BUILTIN: OnceLock<std::sync::Arc<Catalog>> = OnceLock::new();
    BUILTIN.get_or_init(|| match Catalog::builtin() {
        Ok(c) => std::sync::Arc::new(c),
        Err(e) => {
            // The built-in data is checked by the test suite; an empty catalog beats a panic.
            tracing::error!("the built-in catalog is invalid: {e}");
            std::sync::Arc::new(Catalog::default())
        }
    })
}

/// A catalog error as the user sees it.
pub fn diagnostic(e: &CatalogError) -> crate::diagnostics::Diagnostic {
    use crate::diagnostics::Diagnostic;
    let help = format!(
        "override files use the format of the built-in catalog; see catalog/README.md ({} in the stack directory, or ${})",
        load::OVERRIDE_FILE,
        load::OVERRIDE_ENV
    );
    match e {
        CatalogError::Read { .. } => Diagnostic::error(e.to_string()).with_help(help),
        CatalogError::Parse {
            path,
            line,
            column,
            source_line,
            message,
        } => Diagnostic::error(format!("invalid catalog file `{}`", path.display()))
            .with_detail(format!(
                "{}:{line}:{column}: {message}\n  {line} | {source_line}\n  {} | {}^",
                path.display(),
                " ".repeat(line.to_string().len()),
                " ".repeat(column.saturating_sub(1))
            ))
            .with_help(help),
        CatalogError::Invalid { path, problems } => {
            Diagnostic::error(format!("invalid catalog entries in `{}`", path.display()))
                .with_detail(problems.join("\n"))
                .with_help(help)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
