//! End-to-end tests of the Google Cloud provider: the real `gantry` binary against the
//! contract fake of Google's APIs on loopback (tests/gcp/fake, one server per test), with
//! every result read back through google-api-python-client, Google's own client.

mod gcs_emulator;
mod support;

mod compute;
mod errors;
mod example;
mod filestore;
mod gke;
mod iam;
mod kms;
mod network;
mod recovery;
mod remote_state;
mod storage;
mod tpu;
mod workbench;
