//! The command-line interface: arguments and help text. `main.rs` parses, the command
//! modules do the work.

use crate::graph::render::GraphFormat;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const ABOUT: &str = "Declarative infrastructure for AI: GPU and TPU clusters, storage, \
networks and ML platforms on AWS, Google Cloud and Azure.";

#[derive(Parser, Debug)]
#[command(name = "gantry", version, about = ABOUT, propagate_version = true)]
#[command(
    after_help = "Examples:\n  gantry validate examples/quickstart\n  gantry fmt --check .\n  gantry graph --format mermaid examples/quickstart"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Never colour output (also: NO_COLOR=1)
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a stack for errors without touching any cloud
    #[command(
        after_help = "Evaluates everything that is known without a cloud: variables with \
their defaults and given values, locals, count/for_each and function calls on constants. \
Unset required variables are treated as unknown.\n\nExamples:\n  gantry validate\n  gantry validate stacks/aws/network --var 'zones=[\"a\",\"b\"]'\n  gantry validate --json examples/quickstart"
    )]
    Validate(ValidateArgs),
    /// Rewrite stack files in the canonical format
    #[command(
        after_help = "Formats every `*.hcl` file in PATH (a file or a directory), keeping \
comments. Exit code 1 with --check when a file is not formatted.\n\nExamples:\n  gantry fmt\n  gantry fmt --check --diff stacks/\n  gantry fmt --recursive ."
    )]
    Fmt(FmtArgs),
    /// Print the resource dependency graph as DOT or Mermaid
    #[command(
        after_help = "Arrows point from a resource instance to what it depends on.\n\n\
Examples:\n  gantry graph | dot -Tsvg > graph.svg\n  gantry graph --format mermaid examples/quickstart"
    )]
    Graph(GraphArgs),
    /// Show what apply would change
    #[command(
        after_help = "Refreshes what state tracks, then compares it with the stack. Each priced \
resource shows its hourly and monthly cost from the accelerator catalog, and the plan the stack's \
total and the change it makes. The plan fails, before anything is created, when the stack costs \
more than its `budget { max_hourly = N }` (or --max-hourly), or when an accelerator quota of the \
account (AWS Service Quotas; under --sim the `service_quotas` of .gantry/sim/capacity.json) has \
less free than the plan needs.\n\n\
Exit codes with --detailed-exitcode: 0 no changes, 1 error, 2 changes.\n\nExamples:\n  gantry plan --sim examples/quickstart\n  gantry plan --detailed-exitcode --json\n  gantry plan --replace 'gantry_data.subnet[\"us-east-1a\"]'\n  gantry plan --sim --max-hourly 250 examples/llm-training-aws"
    )]
    Plan(PlanArgs),
    /// Create, update and delete infrastructure to match the stack
    #[command(
        after_help = "Shows the plan and asks for `yes` unless --auto-approve. Without a \
terminal, --auto-approve is required. Ctrl-C stops starting new work and saves state; a second \
Ctrl-C exits at once.\n\nExamples:\n  gantry apply --sim examples/quickstart\n  gantry apply --auto-approve --parallelism 32"
    )]
    Apply(ApplyArgs),
    /// Delete everything the stack created
    #[command(after_help = "Examples:\n  gantry destroy --sim --auto-approve examples/quickstart")]
    Destroy(ApplyArgs),
    /// Show a saved plan or the state, for people, tools (--json) or a pull request (--markdown)
    #[command(
        after_help = "With PLANFILE (from `gantry plan --out PLANFILE`), shows exactly the plan \
`gantry apply PLANFILE` would apply; without it, what the state of the stack in --dir tracks. \
--json prints a versioned document (format_version 1.x) described by the JSON Schemas \
schemas/plan.schema.json and schemas/state.schema.json: changes with before/after values, \
drift, cost per change and in total, the budget verdict and quota checks; sensitive values are \
null and their paths listed. --markdown prints a report for a pull-request comment: summary, \
cost and budget, destroyed and replaced resources first, a collapsible section per module, \
drift apart; it stays under GitHub's 65,536-character limit and says what it left out.\n\n\
Examples:\n  gantry plan --sim --out plan.bin examples/llm-training-aws\n  gantry show plan.bin\n  \
gantry show --markdown plan.bin > plan.md\n  gantry show --json plan.bin | jq .summary\n  \
gantry show --sim --dir examples/llm-training-aws"
    )]
    Show(ShowArgs),
    /// Print the stack's outputs
    #[command(
        after_help = "Examples:\n  gantry output\n  gantry output total_gpus --raw\n  gantry output --json"
    )]
    Output(OutputArgs),
    /// Inspect and edit state
    #[command(subcommand)]
    State(StateCommand),
    /// Read every tracked resource and record what changed outside gantry
    #[command(after_help = "Examples:\n  gantry refresh --sim examples/quickstart")]
    Refresh(ApplyArgs),
    /// Bring an existing cloud object under gantry's management
    #[command(
        after_help = "The resource block should exist in the stack; the next plan shows \
any difference between the object and its configuration.\n\nExamples:\n  gantry import aws_vpc.main vpc-0a1b2c3d\n  gantry import --sim --dir examples/quickstart gantry_data.network d-0123"
    )]
    Import(ImportArgs),
    /// Release a lock left by a process that is gone
    #[command(
        name = "force-unlock",
        after_help = "The id is printed by the command that found the stack locked.\n\nExamples:\n  gantry force-unlock 6f1c2a54-..."
    )]
    ForceUnlock(ForceUnlockArgs),
    /// Browse the accelerator catalog: instance types, where they run, what they cost
    #[command(
        after_help = "Lists instance types with accelerators on AWS, Google Cloud and Azure, one \
row per region, cheapest first. Prices are USD per hour from the built-in catalog (its date is \
printed) plus `gantry.catalog.toml` in --dir and $GANTRY_CATALOG_OVERRIDE.\n\nExamples:\n  \
gantry catalog --accelerator H100 --cloud aws --region us-east-1\n  gantry catalog --accelerator \
H100:8 --max-price 40 --spot\n  gantry catalog --accelerator tpu-v5e --cloud gcp --json"
    )]
    Catalog(CatalogArgs),
    /// The simulated clouds used by --sim
    #[command(subcommand)]
    Sim(SimCommand),
    /// The stack modules shipped with gantry (`source = "gantry/aws/network"`)
    #[command(subcommand)]
    Modules(ModulesCommand),
    /// Workspaces: several states for one stack (dev, staging, prod), as in Terraform
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Prepare the stack's state backend: record --backend-config values, check the backend
    /// answers, and move state to it with --migrate-state
    #[command(
        after_help = "The `backend \"KIND\" { }` block (top level or inside `terraform { }`) says where \
state lives: `local` (`.gantry/` next to the stack, also when there is no block), `s3` (a bucket), \
`gcs` (a Cloud Storage bucket), `azurerm` (an Azure Blob Storage container) or `pg` (a PostgreSQL \
schema), with the arguments of Terraform's backends of those names. Values \
kept out of the stack (credentials, a bucket per environment) are given here with --backend-config \
and recorded in `.gantry/backend.json` (private to you) for later commands, as Terraform's \
`-backend-config`.\n\n\
After changing the backend block, `gantry init --migrate-state` copies the current workspace's \
state from the backend `gantry init` last recorded (or local state) to the new one, under both \
locks, verifies the copy and leaves the old state where it was. It refuses when the old state has \
an unfinished journal (run `gantry apply` first) or the new backend already holds another \
stack's state.\n\n\
Remote state is locked with a lock object next to it (in PostgreSQL, a row beside an advisory lock \
that dies with a killed runner's connection) whose heartbeat a running command renews; \
a lock whose heartbeat stopped for `lock_stale_after_seconds` (default 60) is taken over by a \
command waiting with --lock-timeout. Plans take no lock.\n\n\
Examples:\n  gantry init\n  gantry init --backend-config bucket=tfstate-prod --backend-config region=us-east-1\n  gantry init --backend-config prod.s3.tfbackend\n  gantry init --backend-config conn_str=postgres://ci@db.internal/infra\n  ARM_ACCESS_KEY=... gantry init --backend-config storage_account_name=acmetfstate\n  gantry init --migrate-state"
    )]
    Init(InitArgs),
    /// Print a shell completion script
    #[command(
        after_help = "Completes subcommands, flags and their fixed values.\n\nExamples:\n  \
gantry completions bash > ~/.local/share/bash-completion/completions/gantry\n  \
gantry completions zsh > \"${fpath[1]}/_gantry\"\n  \
gantry completions fish > ~/.config/fish/completions/gantry.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command into a directory
    #[command(
        after_help = "Examples:\n  gantry man | man -l -\n  gantry man --out-dir /usr/local/share/man/man1"
    )]
    Man(ManArgs),
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// List the workspaces; `*` marks the current one
    #[command(
        after_help = "Examples:\n  gantry workspace list\n  gantry workspace list --dir examples/llm-training-aws"
    )]
    List(WorkspaceDirArgs),
    /// Print the current workspace (GANTRY_WORKSPACE or TF_WORKSPACE, else the selected one)
    #[command(after_help = "Examples:\n  gantry workspace show")]
    Show(WorkspaceDirArgs),
    /// Create a workspace with an empty state, and select it
    #[command(
        after_help = "Its state lives in .gantry/workspaces/NAME (.gantry/sim/workspaces/NAME under --sim); \
`terraform.workspace` reads its name.\n\nExamples:\n  gantry workspace new staging\n  gantry apply --sim --auto-approve"
    )]
    New(WorkspaceNameArgs),
    /// Select the workspace later commands use
    #[command(
        after_help = "Examples:\n  gantry workspace select default\n  GANTRY_WORKSPACE=prod gantry plan   # for one command"
    )]
    Select(WorkspaceNameArgs),
    /// Delete a workspace whose states track nothing (destroy it first), or any with --force
    #[command(
        after_help = "The default and the current workspace cannot be deleted.\n\nExamples:\n  gantry workspace delete staging"
    )]
    Delete(WorkspaceDeleteArgs),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Stack directory
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// A backend setting, KEY=VALUE (nested: endpoints.s3=URL), or a file of `key = "value"`
    /// lines (repeatable; later values win)
    #[arg(long = "backend-config", value_name = "KEY=VALUE|FILE")]
    pub backend_config: Vec<String>,
    /// Copy the current workspace's state from the previously recorded backend (or local
    /// state) to the one the stack now names
    #[arg(long)]
    pub migrate_state: bool,
    /// Wait this long for each state lock (e.g. 30s, 2m); default: fail at once
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Args, Debug)]
pub struct WorkspaceDirArgs {
    /// Stack directory
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct WorkspaceNameArgs {
    /// Workspace name: letters, digits, `-`, `_`, `.`
    pub name: String,
    #[command(flatten)]
    pub at: WorkspaceDirArgs,
}

#[derive(Args, Debug)]
pub struct WorkspaceDeleteArgs {
    #[command(flatten)]
    pub workspace: WorkspaceNameArgs,
    /// Delete even when its state still tracks resources (they stay in the cloud, untracked)
    #[arg(long)]
    pub force: bool,
}

#[derive(Subcommand, Debug)]
pub enum ModulesCommand {
    /// List the shipped modules, with the source to write for each
    #[command(after_help = "Examples:\n  gantry modules list")]
    List,
    /// Copy a shipped module's files into a directory, to read or fork it
    #[command(
        after_help = "A stack that uses `source = \"gantry/aws/network\"` gets the module of the gantry that runs it; an exported copy is yours (`source = \"./network\"`).\n\nExamples:\n  gantry modules export aws/network ./network\n  gantry modules export gantry/aws/gpu-cluster vendor/gpu-cluster"
    )]
    Export(ModulesExportArgs),
}

#[derive(Args, Debug)]
pub struct ModulesExportArgs {
    /// The module: `aws/network` (or its source, `gantry/aws/network`)
    pub name: String,
    /// Where to write its files (created if missing)
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write gantry.1 and a page per subcommand (gantry-plan.1, ...) into this directory
    /// instead of printing gantry.1
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CatalogArgs {
    /// Accelerator name or spec: H100, A100-80GB, L4, tpu-v5e, or with a count: H100:8
    #[arg(long, short = 'a', value_name = "SPEC")]
    pub accelerator: Option<String>,
    /// Cloud: aws, gcp or azure
    #[arg(long, value_parser = ["aws", "gcp", "azure"])]
    pub cloud: Option<String>,
    /// Region, like us-east-1, us-central1 or eastus
    #[arg(long)]
    pub region: Option<String>,
    /// Highest hourly price in USD (spot price with --spot)
    #[arg(long, value_name = "USD", value_parser = parse_positive_amount)]
    pub max_price: Option<f64>,
    /// Show spot (preemptible) prices; types without a spot price are left out
    #[arg(long)]
    pub spot: bool,
    /// Print one JSON object per row
    #[arg(long)]
    pub json: bool,
    /// Stack directory whose `gantry.catalog.toml` overrides entries
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// Options of commands that read or change state.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// Use the simulated clouds (also: GANTRY_SIM=1); state is kept apart in .gantry/sim, also
    /// when the stack names a remote backend (the simulation never touches real state)
    #[arg(long)]
    pub sim: bool,
    /// Operations in flight at most
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub parallelism: u32,
    /// Wait this long for the state lock (e.g. 30s, 2m); default: fail at once
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
    /// Refresh tracked resources before planning
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub refresh: bool,
    /// Replace this resource instance even if nothing changed, placing it afresh among its
    /// `failover` alternatives; or, for a module call with `failover` (`module.NAME`),
    /// place the whole module afresh among its alternatives (repeatable)
    #[arg(long, value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Only plan or apply this resource (or module) and what it depends on (repeatable)
    #[arg(long, value_name = "ADDR")]
    pub target: Vec<String>,
    /// Fail the plan when the stack would cost more than this many USD per hour (overrides
    /// the stack's `budget { max_hourly }`)
    #[arg(long, value_name = "USD", value_parser = parse_positive_amount)]
    pub max_hourly: Option<f64>,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Exit 2 when the plan has changes, 0 when it has none
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan to destroy everything
    #[arg(long)]
    pub destroy: bool,
    /// Save the plan to FILE; `gantry apply FILE` applies exactly it
    #[arg(long = "out", short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write resource blocks for `import` blocks whose targets the stack does not declare
    /// (a new file; review it, then plan again)
    #[arg(long, value_name = "FILE")]
    pub generate_config_out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Do not ask for confirmation
    #[arg(long)]
    pub auto_approve: bool,
    /// When the cloud has no capacity for a create, keep cycling through its `failover`
    /// alternatives (or retrying it as written; for a create inside a module being placed,
    /// through the module's alternatives) until this long has passed (e.g. 2h, 30m), pausing
    /// 30s between rounds, doubling up to 5m (GANTRY_CAPACITY_BACKOFF sets the first pause);
    /// a `failover` block's own `wait_for_capacity` wins
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_for_capacity: Option<std::time::Duration>,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// A plan file from `gantry plan --out FILE`; without it, the state of the stack in --dir
    pub planfile: Option<PathBuf>,
    /// Stack directory, when showing the state
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// The state of the simulated clouds (.gantry/sim), when showing the state
    #[arg(long)]
    pub sim: bool,
    /// Print the versioned JSON document (schemas/plan.schema.json, schemas/state.schema.json)
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print a GitHub-flavoured markdown report for a pull-request comment
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Args, Debug)]
pub struct OutputArgs {
    /// One output's name (default: all)
    pub name: Option<String>,
    /// Stack directory
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    #[arg(long)]
    pub sim: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Print a string output without quotes, for scripts
    #[arg(long)]
    pub raw: bool,
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List tracked resource instances
    #[command(
        after_help = "Examples:\n  gantry state list\n  gantry state list module.network\n  gantry state list --sim --dir examples/quickstart"
    )]
    List(StateListArgs),
    /// Show one resource instance's attributes
    #[command(
        after_help = "Sensitive attributes show as `(sensitive value)`.\n\nExamples:\n  gantry state show aws_vpc.main\n  gantry state show 'aws_subnet.private[\"us-east-1a\"]'"
    )]
    Show(StateAddrArgs),
    /// Forget resource instances (they are not deleted)
    #[command(
        after_help = "The objects stay in the cloud; the next plan creates new ones unless the \
resource blocks are removed too.\n\nExamples:\n  gantry state rm aws_instance.debug\n  gantry state rm 'aws_subnet.private[0]' 'aws_subnet.private[1]'"
    )]
    Rm(StateAddrsArgs),
    /// Rename a resource instance in state
    #[command(
        after_help = "Examples:\n  gantry state mv aws_vpc.main module.network.aws_vpc.main\n  gantry state mv 'aws_subnet.a[0]' 'aws_subnet.a[\"us-east-1a\"]'"
    )]
    Mv(StateMvArgs),
    /// Print the state file
    #[command(after_help = "Examples:\n  gantry state pull > backup.json")]
    Pull(StateDirArgs),
    /// Replace the state with a file (refuses another lineage or an older serial)
    #[command(after_help = "Examples:\n  gantry state push backup.json")]
    Push(StatePushArgs),
    /// Settle a create an interrupted run left unchecked, when you know its outcome
    ///
    /// `gantry apply` looks such creates up in the cloud before it creates anything at
    /// their address. When the cloud cannot be asked (the account is gone, the endpoint was
    /// a test server), say what you know: `--not-created` if nothing was made; if the object
    /// exists, `gantry import ADDRESS ID` adopts it instead.
    #[command(after_help = "Examples:\n  gantry state resolve aws_instance.trainer --not-created")]
    Resolve(StateResolveArgs),
    /// Take over a Terraform state (format version 4): nothing in the cloud is touched
    ///
    /// Every managed resource of a type gantry supports is converted through gantry's
    /// schema and tracked at the same address; data sources are read again by the next
    /// plan. The stack must declare every resource taken over (a directory of `.tf` files
    /// loads as it is), gantry's state must be empty, and resources of unsupported types
    /// refuse the takeover unless --skip-unsupported. Then `gantry plan` should show no
    /// changes.
    #[command(
        after_help = "Examples:\n  gantry state takeover terraform.tfstate\n  terraform state pull | gantry state takeover -\n  gantry state takeover --skip-unsupported old/terraform.tfstate"
    )]
    Takeover(StateTakeoverArgs),
}

#[derive(Args, Debug)]
pub struct StateTakeoverArgs {
    /// The Terraform state file, or `-` for standard input
    pub file: PathBuf,
    /// Leave out resources of types gantry does not support (they stay in the cloud,
    /// untracked by gantry)
    #[arg(long)]
    pub skip_unsupported: bool,
    #[command(flatten)]
    pub at: StateDirArgs,
}

#[derive(Args, Debug)]
pub struct StateResolveArgs {
    /// The address of the interrupted create
    pub address: String,
    /// Nothing was created: forget the interrupted create
    #[arg(long, required = true)]
    pub not_created: bool,
    #[command(flatten)]
    pub at: StateDirArgs,
}

#[derive(Args, Debug)]
pub struct StateDirArgs {
    /// Stack directory
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// The state of the simulated clouds (.gantry/sim) rather than the real ones
    #[arg(long)]
    pub sim: bool,
}

#[derive(Args, Debug)]
pub struct StateListArgs {
    /// Only addresses starting with this
    pub filter: Option<String>,
    #[command(flatten)]
    pub at: StateDirArgs,
}

#[derive(Args, Debug)]
pub struct StateAddrArgs {
    pub address: String,
    #[command(flatten)]
    pub at: StateDirArgs,
}

#[derive(Args, Debug)]
pub struct StateAddrsArgs {
    #[arg(required = true)]
    pub addresses: Vec<String>,
    #[command(flatten)]
    pub at: StateDirArgs,
}

#[derive(Args, Debug)]
pub struct StateMvArgs {
    pub from: String,
    pub to: String,
    #[command(flatten)]
    pub at: StateDirArgs,
}

#[derive(Args, Debug)]
pub struct StatePushArgs {
    pub file: PathBuf,
    /// Push even with another lineage or an older serial
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub at: StateDirArgs,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Resource instance address, e.g. aws_vpc.main or module.net.aws_subnet.a["x"]
    pub address: String,
    /// The object's id in its cloud
    pub id: String,
    #[command(flatten)]
    pub at: StateDirArgs,
}

#[derive(Args, Debug)]
pub struct ForceUnlockArgs {
    pub id: String,
    #[command(flatten)]
    pub at: StateDirArgs,
}

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// List every object in the simulated world
    #[command(after_help = "Examples:\n  gantry sim ls --dir examples/quickstart")]
    Ls(StateDirArgs),
    /// Empty the simulated world
    #[command(after_help = "Examples:\n  gantry sim reset --dir examples/quickstart")]
    Reset(StateDirArgs),
}

fn parse_positive_amount(s: &str) -> Result<f64, String> {
    s.trim()
        .trim_start_matches('$')
        .parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0 && v.is_finite())
        .ok_or_else(|| format!("invalid amount `{s}`; write US dollars like 500 or 12.5"))
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration `{s}`; write e.g. 30s or 2m"))?;
    let secs = match unit {
        "ms" => return Ok(std::time::Duration::from_millis(n)),
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("invalid duration unit in `{s}`; use ms, s, m or h")),
    };
    Ok(std::time::Duration::from_secs(secs))
}

/// Where the stack is and what to feed it.
#[derive(Args, Debug, Clone)]
pub struct StackArgs {
    /// Stack directory (or a single .hcl file)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Set a root variable: --var name=value (HCL syntax for lists, maps, numbers)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variable values from an HCL file (name = value lines)
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// Print one JSON object per line instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub stack: StackArgs,
}

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// File or directory to format
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Do not write; exit 1 if any file is not formatted
    #[arg(long)]
    pub check: bool,
    /// Show the changes as a unified diff
    #[arg(long)]
    pub diff: bool,
    /// Also format subdirectories
    #[arg(long)]
    pub recursive: bool,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}
