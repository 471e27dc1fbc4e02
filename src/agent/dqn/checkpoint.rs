//! Checkpoints: one file holding a JSON header (format version, network shape, config,
//! counters, ε override, Adam step, the name and shape of every parameter tensor) and the
//! online, target and Adam first- and second-moment parameters as little-endian f32 in
//! [`ParamLayout`] order, closed by a CRC-32 of header and payload. Writes go to a temporary
//! file in the same directory, are fsynced, then renamed over the destination, so a reader
//! never sees a half-written checkpoint. Loading refuses, with a sentence saying why, a file
//! that is not a checkpoint, is truncated or corrupt (checksum), holds non-finite weights, or
//! was written for another network shape ([`DqnError::CheckpointMismatch`]). The replay
//! buffer's transitions are saved when asked ([`DqnLearner::save_checkpoint_with_replay`]) and
//! restored by a load; pending n-step steps never are.
//!
//! Layout (format 2): `LIVEQDQN\x02\n`, u64-LE header length, header JSON, u64-LE payload
//! length, payload, then — when the header has a `replay` entry — u64-LE replay length and
//! the replay image ([`ReplayImage`]), and last a u32-LE CRC-32 of everything after the magic. Format 1 files (`LIVEQDQN\x01\n`: four burnpack blobs of
//! the one-field-per-head network) still load: [`legacy`] converts them.

use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::DqnConfig;
use super::error::DqnError;
use super::learner::DqnLearner;
use super::replay::ReplayImage;
use super::shape::{NetShape, ParamLayout};
use super::trainer::TrainerState;

mod legacy;

const MAGIC_PREFIX: &[u8; 8] = b"LIVEQDQN";
/// Format version written into new checkpoints.
pub const FORMAT_VERSION: u32 = 2;
/// Largest checkpoint read (a bound on what a corrupt length field can make us allocate).
pub const MAX_BYTES: u64 = 4 << 30;

/// The JSON header of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointHeader {
    /// [`FORMAT_VERSION`] (1 for a converted format-1 file).
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
    /// Name and shape of each parameter tensor, in payload order (for other readers).
    #[serde(default)]
    pub params: Vec<(String, Vec<usize>)>,
    /// The replay image following the parameters, when the checkpoint holds one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplayImage>,
}

/// A checkpoint as read: header, trainer state, and the replay image's bytes if saved.
pub struct Checkpoint {
    pub header: CheckpointHeader,
    pub state: TrainerState,
    pub replay: Option<Vec<u8>>,
}

fn bad(path: &Path, why: impl std::fmt::Display) -> DqnError {
    DqnError::Checkpoint(format!("{}: {why}", path.display()))
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

/// The whole file, if it is a regular file no larger than [`MAX_BYTES`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, DqnError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(bad(path, "not a regular file"));
    }
    if meta.len() > MAX_BYTES {
        return Err(bad(
            path,
            format!(
                "{} bytes is larger than any checkpoint (limit {MAX_BYTES})",
                meta.len()
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A cursor over the file's bytes that reports truncation as a sentence.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, path: &Path) -> Result<&'a [u8], DqnError> {
        let left = (self.bytes.len() - self.at) as u64;
        if n > left {
            return Err(bad(
                path,
                "the file is truncated (it ends inside a section)",
            ));
        }
        let s = &self.bytes[self.at..self.at + n as usize];
        self.at += n as usize;
        Ok(s)
    }

    fn u64(&mut self, path: &Path) -> Result<u64, DqnError> {
        let b = self.take(8, path)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
}

/// Read a checkpoint: its header and the trainer state it holds, checked against the shape
/// the header records (layout, checksum, finite values).
pub fn read_checkpoint(path: &Path) -> Result<(CheckpointHeader, TrainerState), DqnError> {
    read_full(path).map(|c| (c.header, c.state))
}

/// Read a checkpoint with its replay image (when it holds one).
pub fn read_full(path: &Path) -> Result<Checkpoint, DqnError> {
    let bytes = read_bounded(path)?;
    let mut c = Cursor {
        bytes: &bytes,
        at: 0,
    };
    let magic = c
        .take(10, path)
        .map_err(|_| bad(path, "not a liveq DQN checkpoint (too short)"))?;
    if &magic[..8] != MAGIC_PREFIX || magic[9] != b'\n' {
        return Err(bad(path, "not a liveq DQN checkpoint"));
    }
    let (header, state, replay) = match magic[8] {
        1 => {
            let (h, s) = legacy::read(path, &mut c.bytes[c.at..].as_ref())?;
            (h, s, None)
        }
        2 => read_v2(path, &mut c)?,
        v => {
            return Err(bad(
                path,
                format!("checkpoint format {v} is newer than this liveq reads (2)"),
            ));
        }
    };
    let layout = ParamLayout::new(&header.shape);
    for (what, set) in [
        ("online weights", &state.online),
        ("target weights", &state.target),
        ("Adam first moments", &state.m),
        ("Adam second moments", &state.v),
    ] {
        layout
            .check(set)
            .map_err(|e| bad(path, format!("{what}: {e}")))?;
        if let Some((name, _)) = layout
            .param_names()
            .iter()
            .zip(set)
            .find(|(_, p)| p.iter().any(|x| !x.is_finite()))
        {
            return Err(bad(
                path,
                format!("{what}: {name} holds non-finite values (NaN or infinity)"),
            ));
        }
    }
    Ok(Checkpoint {
        header,
        state,
        replay,
    })
}

type V2 = (CheckpointHeader, TrainerState, Option<Vec<u8>>);

fn read_v2(path: &Path, c: &mut Cursor<'_>) -> Result<V2, DqnError> {
    let body_start = c.at;
    let n = c.u64(path)?;
    let header_bytes = c.take(n, path)?;
    let header: CheckpointHeader = serde_json::from_slice(header_bytes)
        .map_err(|e| bad(path, format!("its header is not valid ({e})")))?;
    if header.format_version != 2 {
        return Err(bad(
            path,
            format!(
                "the header says format {}, the file is format 2",
                header.format_version
            ),
        ));
    }
    let layout = ParamLayout::new(&header.shape);
    let per_set: u64 = layout
        .param_shapes()
        .iter()
        .map(|s| s.iter().product::<usize>() as u64)
        .sum();
    let n = c.u64(path)?;
    if n != 4 * 4 * per_set {
        return Err(bad(
            path,
            format!(
                "the payload has {n} bytes where the recorded shape ({}) needs {}",
                header.shape,
                16 * per_set
            ),
        ));
    }
    let payload = c.take(n, path)?;
    let replay = match &header.replay {
        None => None,
        Some(image) => {
            let n = c.u64(path)?;
            if n != image.bytes() {
                return Err(bad(
                    path,
                    format!(
                        "its replay section has {n} bytes where {} transitions need {}",
                        image.transitions,
                        image.bytes()
                    ),
                ));
            }
            Some(c.take(n, path)?)
        }
    };
    let body_end = c.at;
    let crc = c.take(4, path)?;
    let crc = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
    if crc != crc32fast::hash(&c.bytes[body_start..body_end]) {
        return Err(bad(path, "it is corrupt (checksum mismatch)"));
    }
    if c.at != c.bytes.len() {
        return Err(bad(path, "it has trailing bytes after the checksum"));
    }
    let mut floats = payload
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")));
    let mut set = || -> Vec<Vec<f32>> {
        layout
            .param_shapes()
            .iter()
            .map(|s| floats.by_ref().take(s.iter().product()).collect())
            .collect()
    };
    let state = TrainerState {
        online: set(),
        target: set(),
        m: set(),
        v: set(),
        t: header.adam_t,
    };
    Ok((header, state, replay.map(<[u8]>::to_vec)))
}

/// Only the header of a checkpoint (for showing what a file holds).
pub fn read_checkpoint_header(path: &Path) -> Result<CheckpointHeader, DqnError> {
    read_checkpoint(path).map(|(h, _)| h)
}

/// The bytes of a format-2 checkpoint (with `replay`, the image the header describes).
fn encode(
    header: &CheckpointHeader,
    state: &TrainerState,
    replay: Option<&super::replay::ReplayBuffer>,
) -> Result<Vec<u8>, DqnError> {
    let header = serde_json::to_vec_pretty(header)
        .map_err(|e| DqnError::Checkpoint(format!("encoding the header: {e}")))?;
    let floats: usize = state.online.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(64 + header.len() + 16 * floats);
    out.extend_from_slice(MAGIC_PREFIX);
    out.extend_from_slice(&[FORMAT_VERSION as u8, b'\n']);
    let body_start = out.len();
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&(16 * floats as u64).to_le_bytes());
    for set in [&state.online, &state.target, &state.m, &state.v] {
        for x in set.iter().flatten() {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    if let Some(buffer) = replay {
        out.extend_from_slice(&buffer.image().bytes().to_le_bytes());
        buffer.write_image(&mut out);
    }
    let crc = crc32fast::hash(&out[body_start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

impl DqnLearner {
    /// Save weights, optimizer state, config and counters to `path` (atomically).
    pub fn save_checkpoint(&self, path: impl AsRef<Path>) -> Result<(), DqnError> {
        self.write_checkpoint(path.as_ref(), false)
    }

    /// [`DqnLearner::save_checkpoint`], with the replay buffer's transitions too, so that a
    /// load continues training on the same experience. Refused when the file would exceed
    /// [`MAX_BYTES`].
    pub fn save_checkpoint_with_replay(&self, path: impl AsRef<Path>) -> Result<(), DqnError> {
        self.write_checkpoint(path.as_ref(), true)
    }

    fn write_checkpoint(&self, path: &Path, with_replay: bool) -> Result<(), DqnError> {
        let (env_steps, updates, epsilon_override) = self.counters();
        let state = self.trainer_state()?;
        let layout = self.layout();
        let header = CheckpointHeader {
            format_version: FORMAT_VERSION,
            shape: self.shape().clone(),
            config: self.config().clone(),
            env_steps,
            updates,
            epsilon: self.epsilon(),
            epsilon_override,
            adam_t: state.t,
            params: layout
                .param_names()
                .into_iter()
                .zip(layout.param_shapes())
                .collect(),
            replay: with_replay.then(|| self.replay().image()),
        };
        if let Some(image) = &header.replay {
            let params = 16 * state.online.iter().map(Vec::len).sum::<usize>() as u64;
            let total = image.bytes().saturating_add(params);
            if total > MAX_BYTES {
                return Err(bad(
                    path,
                    format!(
                        "with its {} replay transitions the checkpoint would be {total} bytes, \
                         more than a checkpoint may hold ({MAX_BYTES}); save without the \
                         replay buffer or make `buffer_capacity` smaller",
                        image.transitions
                    ),
                ));
            }
        }
        let replay = with_replay.then(|| self.replay());
        write_atomic(path, &encode(&header, &state, replay)?)
    }

    /// A new learner on `device` built from a checkpoint: its shape, configuration, weights,
    /// optimizer state and counters. The action groups start at 0: set them before acting
    /// when the network has a group head.
    pub fn from_checkpoint(
        path: impl AsRef<Path>,
        device: super::device::DeviceChoice,
        seed: u64,
    ) -> Result<Self, DqnError> {
        let path = path.as_ref();
        let header = read_checkpoint_header(path)?;
        let shape = &header.shape;
        let mut config = header.config.clone();
        config.hidden = shape.hidden.clone();
        config.dueling = shape.dueling();
        config.topic_head = shape.groups() > 0;
        config.reward_head = shape.reward_head();
        config.fusion = if shape.gated_modalities() > 0 {
            crate::scenario::Fusion::Gated
        } else {
            crate::scenario::Fusion::Concat
        };
        config.norm = if shape.layer_norm {
            crate::scenario::Norm::Layer
        } else {
            crate::scenario::Norm::None
        };
        let layout = super::learner::ActionLayout {
            groups: shape.groups(),
            features: shape.action_features(),
            content: shape.content_len(),
            modalities: shape.gated_modalities(),
            slate: header.replay.as_ref().map_or(0, |r| r.slate as usize),
        };
        let mut l = DqnLearner::with_layout(
            shape.input_dim,
            shape.num_actions,
            layout,
            config,
            device.resolve()?,
            seed,
        )?;
        l.load_checkpoint(path)?;
        Ok(l)
    }

    /// Load a checkpoint saved by a learner of the same shape; the configuration in the file
    /// replaces the current one (except the replay-shaping keys). The replay buffer takes the
    /// checkpoint's transitions when it holds them (the newest that fit), and is left as it is
    /// otherwise.
    pub fn load_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<(), DqnError> {
        let path = path.as_ref();
        let Checkpoint {
            header,
            state,
            replay,
        } = read_full(path)?;
        let shape = self.shape();
        if &header.shape != shape {
            return Err(DqnError::CheckpointMismatch(format!(
                "{} holds a network of {}, this learner's is {}",
                path.display(),
                header.shape,
                shape
            )));
        }
        header.config.validate().map_err(|e| {
            let (key, reason) = e.into_iter().next().unwrap_or_default();
            bad(
                path,
                format!("its configuration is invalid: `{key}` {reason}"),
            )
        })?;
        let mut config = header.config.clone();
        // Keep the replay-shaping keys of the running learner (its buffer already exists).
        config.buffer_capacity = self.config().buffer_capacity;
        config.prioritized = self.config().prioritized;
        config.n_step = self.config().n_step;
        if config.batch_size > config.buffer_capacity {
            config.batch_size = config.buffer_capacity;
        }
        if let (Some(image), Some(bytes)) = (&header.replay, &replay) {
            self.replay_mut()
                .restore_image(image, bytes)
                .map_err(|e| bad(path, e))?;
        }
        self.set_config(config);
        self.restore_state(
            state,
            header.env_steps,
            header.updates,
            header.epsilon_override,
        )
    }
}
