//! Checkpoints: one file holding a JSON header (format version, network shape, config,
//! counters, ε override, Adam step) and four burnpack blobs (online net, target net, Adam
//! first and second moments, each stored as a Q-network-shaped module). Writes go to a
//! temporary file in the same directory, are fsynced, then renamed over the destination, so
//! a reader never sees a half-written checkpoint. Loading a checkpoint of another shape is a
//! [`DqnError::CheckpointMismatch`]. The replay buffer and pending n-step steps are not saved.
//!
//! Layout: `LIVEQDQN\x01\n`, u64-LE header length, header JSON, then 4 × (u64-LE length, blob).

use std::io::{Read, Write};
use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::config::DqnConfig;
use super::device::DeviceChoice;
use super::error::DqnError;
use super::learner::DqnLearner;
use super::network::{NetShape, QNetwork};

const MAGIC: &[u8; 10] = b"LIVEQDQN\x01\n";
/// Format version written into the header.
pub const FORMAT_VERSION: u32 = 1;

/// The JSON header of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointHeader {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Network shape (must match on load).
    pub shape: NetShape,
    /// Configuration at save time.
    pub config: DqnConfig,
    /// Env steps observed.
    pub env_steps: u64,
    /// Gradient updates done.
    pub updates: u64,
    /// ε at save time.
    pub epsilon: f64,
    /// Fixed ε override, if set.
    pub epsilon_override: Option<f64>,
    /// Adam step counter.
    pub adam_t: u64,
}

fn ck<E: std::fmt::Debug>(what: &str) -> impl Fn(E) -> DqnError + '_ {
    move |e| DqnError::Checkpoint(format!("{what}: {e:?}"))
}

fn blob(shape: &NetShape, params: &[Vec<f32>]) -> Result<Vec<u8>, DqnError> {
    let net = QNetwork::from_host(shape, params, &Device::flex());
    let bytes = net.into_record().into_bytes().map_err(ck("encoding"))?;
    Ok(bytes.to_vec())
}

fn unblob(shape: &NetShape, data: Vec<u8>) -> Result<Vec<Vec<f32>>, DqnError> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(data)).map_err(ck("decoding"))?;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0);
    let net = QNetwork::new(shape, &mut rng, &Device::flex())
        .try_load_record(record)
        .map_err(|e| DqnError::CheckpointMismatch(format!("tensor shapes: {e:?}")))?;
    net.to_host()
}

/// Write `bytes` to `path` atomically: a temporary file in the same folder, synced, then
/// renamed over `path`, so a crash never leaves a half-written checkpoint.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DqnError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| DqnError::Io(e.error))?;
    Ok(())
}

fn read_u64(r: &mut impl Read) -> Result<u64, DqnError> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b).map_err(ck("truncated file"))?;
    Ok(u64::from_le_bytes(b))
}

fn read_chunk(r: &mut impl Read, limit: u64) -> Result<Vec<u8>, DqnError> {
    let n = read_u64(r)?;
    if n > limit {
        return Err(DqnError::Checkpoint(format!(
            "section of {n} bytes is implausible"
        )));
    }
    let mut v = vec![0u8; n as usize];
    r.read_exact(&mut v).map_err(ck("truncated file"))?;
    Ok(v)
}

/// Read a checkpoint: header and the four parameter sets (online, target, m, v).
#[allow(clippy::type_complexity)]
pub fn read_checkpoint(path: &Path) -> Result<(CheckpointHeader, [Vec<u8>; 4]), DqnError> {
    let f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut r = std::io::BufReader::new(f);
    let mut magic = [0u8; 10];
    r.read_exact(&mut magic).map_err(ck("truncated file"))?;
    if &magic != MAGIC {
        return Err(DqnError::Checkpoint(format!(
            "{} is not a liveq DQN checkpoint",
            path.display()
        )));
    }
    let header = read_chunk(&mut r, len)?;
    let header: CheckpointHeader = serde_json::from_slice(&header).map_err(ck("header"))?;
    if header.format_version != FORMAT_VERSION {
        return Err(DqnError::Checkpoint(format!(
            "unsupported checkpoint format {}",
            header.format_version
        )));
    }
    let blobs = [
        read_chunk(&mut r, len)?,
        read_chunk(&mut r, len)?,
        read_chunk(&mut r, len)?,
        read_chunk(&mut r, len)?,
    ];
    Ok((header, blobs))
}

/// Only the header of a checkpoint (cheap: for showing what a file holds).
pub fn read_checkpoint_header(path: &Path) -> Result<CheckpointHeader, DqnError> {
    let f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut r = std::io::BufReader::new(f);
    let mut magic = [0u8; 10];
    r.read_exact(&mut magic).map_err(ck("truncated file"))?;
    if &magic != MAGIC {
        return Err(DqnError::Checkpoint("not a liveq DQN checkpoint".into()));
    }
    serde_json::from_slice(&read_chunk(&mut r, len)?).map_err(ck("header"))
}

impl DqnLearner {
    /// Save weights, optimizer state, config and counters to `path` (atomically).
    pub fn save_checkpoint(&self, path: impl AsRef<Path>) -> Result<(), DqnError> {
        let shape = self.shape();
        let (env_steps, updates, epsilon_override) = self.counters();
        let (m, v, t) = self.adam_host()?;
        let header = CheckpointHeader {
            format_version: FORMAT_VERSION,
            shape: shape.clone(),
            config: self.config().clone(),
            env_steps,
            updates,
            epsilon: self.epsilon(),
            epsilon_override,
            adam_t: t,
        };
        let online = self.online_params()?;
        let target = self.target_params()?;
        let header = serde_json::to_vec_pretty(&header).map_err(ck("header"))?;
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        for part in [
            header,
            blob(&shape, &online)?,
            blob(&shape, &target)?,
            blob(&shape, &m)?,
            blob(&shape, &v)?,
        ] {
            out.extend_from_slice(&(part.len() as u64).to_le_bytes());
            out.extend_from_slice(&part);
        }
        write_atomic(path.as_ref(), &out)
    }

    /// Load a checkpoint saved by a learner of the same shape; the configuration in the file
    /// replaces the current one. The replay buffer is left as it is.
    pub fn load_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<(), DqnError> {
        let (header, [online, target, m, v]) = read_checkpoint(path.as_ref())?;
        let shape = self.shape();
        if header.shape != shape {
            return Err(DqnError::CheckpointMismatch(format!(
                "checkpoint is {:?}, learner is {:?}",
                header.shape, shape
            )));
        }
        header
            .config
            .validate()
            .map_err(|e| DqnError::Checkpoint(format!("invalid config in checkpoint: {e:?}")))?;
        let online = unblob(&shape, online)?;
        let target = unblob(&shape, target)?;
        let m = unblob(&shape, m)?;
        let v = unblob(&shape, v)?;
        let mut config = header.config.clone();
        // Keep the replay-shaping keys of the running learner (its buffer already exists).
        config.buffer_capacity = self.config().buffer_capacity;
        config.prioritized = self.config().prioritized;
        config.n_step = self.config().n_step;
        if config.batch_size > config.buffer_capacity {
            config.batch_size = config.buffer_capacity;
        }
        self.set_config(config);
        self.restore_state(
            online,
            target,
            m,
            v,
            header.adam_t,
            header.env_steps,
            header.updates,
            header.epsilon_override,
        )
    }

    /// A new learner built from a checkpoint (its shape and config) on `device`.
    pub fn from_checkpoint(
        path: impl AsRef<Path>,
        device: DeviceChoice,
        seed: u64,
    ) -> Result<Self, DqnError> {
        let header = read_checkpoint_header(path.as_ref())?;
        let mut config = header.config.clone();
        config.hidden = header.shape.hidden.clone();
        config.dueling = header.shape.dueling;
        config.reward_head = header.shape.reward_head;
        let mut l = DqnLearner::new(
            header.shape.input_dim,
            header.shape.num_actions,
            config,
            device,
            seed,
        )?;
        l.load_checkpoint(path)?;
        Ok(l)
    }
}
