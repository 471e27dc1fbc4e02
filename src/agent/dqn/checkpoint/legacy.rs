//! Format-1 checkpoints: a JSON header whose shape has one field per head, then four
//! burnpack blobs (online, target, Adam m and v), each the record of the network module of
//! that format (fields `hidden`, `head`, `value`, `group`, `features`, `reward`). Its
//! parameter order is the layout's, so a converted file loads as if written today.

use std::io::Read;
use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, TensorData, Transaction};
use serde::Deserialize;

use super::super::config::DqnConfig;
use super::super::error::DqnError;
use super::super::network::read_back;
use super::super::shape::{Head, NetShape, ParamLayout, ShapeV1};
use super::super::trainer::TrainerState;
use super::{CheckpointHeader, bad};

/// The network module of format 1.
#[derive(Module, Debug)]
struct QNetworkV1 {
    hidden: Vec<Linear>,
    head: Linear,
    value: Option<Linear>,
    group: Option<Linear>,
    features: Option<Linear>,
    reward: Option<Linear>,
}

#[derive(Deserialize)]
struct HeaderV1 {
    shape: ShapeV1,
    config: DqnConfig,
    env_steps: u64,
    updates: u64,
    epsilon: f64,
    epsilon_override: Option<f64>,
    adam_t: u64,
}

fn zeros(d_in: usize, d_out: usize, device: &Device) -> Linear {
    Linear {
        weight: Param::from_data(
            TensorData::new(vec![0.0f32; d_in * d_out], [d_in, d_out]),
            device,
        ),
        bias: Some(Param::from_data(
            TensorData::new(vec![0.0f32; d_out], [d_out]),
            device,
        )),
    }
}

impl QNetworkV1 {
    fn zeros(layout: &ParamLayout, device: &Device) -> Self {
        let mk = |d: super::super::shape::Dense| zeros(d.d_in, d.d_out, device);
        let head = |pred: fn(&Head) -> bool| layout.head(pred).map(mk);
        Self {
            hidden: layout.hidden.iter().map(|&d| mk(d)).collect(),
            head: mk(layout.output),
            value: head(|h| matches!(h, Head::Dueling)),
            group: head(|h| matches!(h, Head::Group { .. })),
            features: head(|h| matches!(h, Head::ActionFeatures { .. })),
            reward: head(|h| matches!(h, Head::Reward)),
        }
    }

    fn to_host(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        let linears = self
            .hidden
            .iter()
            .chain([&self.head])
            .chain(&self.value)
            .chain(&self.group)
            .chain(&self.features)
            .chain(&self.reward);
        let mut tx = Transaction::default();
        for l in linears {
            tx = tx.register(l.weight.val());
            if let Some(b) = &l.bias {
                tx = tx.register(b.val());
            }
        }
        read_back(tx, "reading format-1 weights")
    }
}

fn read_u64(r: &mut impl Read, path: &Path) -> Result<u64, DqnError> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)
        .map_err(|_| bad(path, "the file is truncated (it ends inside a section)"))?;
    Ok(u64::from_le_bytes(b))
}

fn read_chunk(r: &mut &[u8], path: &Path) -> Result<Vec<u8>, DqnError> {
    let n = read_u64(r, path)?;
    if n > r.len() as u64 {
        return Err(bad(
            path,
            "the file is truncated (it ends inside a section)",
        ));
    }
    let (chunk, rest) = r.split_at(n as usize);
    *r = rest;
    Ok(chunk.to_vec())
}

/// Read the rest of a format-1 file (after its magic).
pub(super) fn read(
    path: &Path,
    r: &mut &[u8],
) -> Result<(CheckpointHeader, TrainerState), DqnError> {
    let header: HeaderV1 = serde_json::from_slice(&read_chunk(r, path)?)
        .map_err(|e| bad(path, format!("its header is not valid ({e})")))?;
    let shape = NetShape::from(header.shape);
    shape.check().map_err(|e| {
        bad(
            path,
            format!("its header records an impossible network: {e}"),
        )
    })?;
    let layout = ParamLayout::new(&shape);
    // Each blob holds at least 4 bytes per parameter: a header promising more than the file
    // holds is refused before anything is allocated from it.
    let params: u64 = layout
        .param_shapes()
        .iter()
        .map(|s| s.iter().product::<usize>() as u64)
        .sum();
    if 4 * 4 * params > r.len() as u64 {
        return Err(bad(
            path,
            format!(
                "its header records a network of {params} parameters, more than the file holds"
            ),
        ));
    }
    let device = Device::flex();
    let mut sets = Vec::with_capacity(4);
    for what in [
        "online weights",
        "target weights",
        "Adam first moments",
        "Adam second moments",
    ] {
        let blob = read_chunk(r, path)?;
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(blob))
            .map_err(|_| bad(path, format!("its {what} cannot be decoded")))?;
        let net = QNetworkV1::zeros(&layout, &device)
            .try_load_record(record)
            .map_err(|_| {
                DqnError::CheckpointMismatch(format!(
                    "{}: its {what} do not match the network its header records ({shape})",
                    path.display()
                ))
            })?;
        sets.push(net.to_host()?);
    }
    let v = sets.pop().expect("four sets");
    let m = sets.pop().expect("four sets");
    let target = sets.pop().expect("four sets");
    let online = sets.pop().expect("four sets");
    let params = layout
        .param_names()
        .into_iter()
        .zip(layout.param_shapes())
        .collect();
    Ok((
        CheckpointHeader {
            format_version: 1,
            shape,
            config: header.config,
            env_steps: header.env_steps,
            updates: header.updates,
            epsilon: header.epsilon,
            epsilon_override: header.epsilon_override,
            adam_t: header.adam_t,
            params,
            replay: None,
        },
        TrainerState {
            online,
            target,
            m,
            v,
            t: header.adam_t,
        },
    ))
}
