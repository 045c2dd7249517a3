// A synthetic autoregressive (AR) video model that produces the attention
// inputs of a whole rollout (every chunk, denoising pass and layer): a moving
// latent world seen through frames, noised per denoising pass, projected per
// layer to queries/keys/values with 3D rotary positions and sink frames, and a
// residual stream that carries each layer's attention output to the next.
// Deterministic from a seed, host side, multi-threaded. The exact definition
// and why each part is there: docs/ar_video.md.
//
// The caller's loop (attention is the caller's, e.g. a PlanRunner or the CPU
// backend):
//
//   for chunk in 1..chunks:                // 1-based, as in PlanRunner
//     for pass in 0..passes-1:             // the last pass is the refresh
//       model.initChunk(chunk, pass, hidden);
//       for layer in 0..layers-1:
//         // kRows/vRows: the chunk's rows inside the layer's KV buffer
//         model.project(layer, chunk, hidden, q, kRows, vRows);
//         attention(q, K[0..chunk*F*T), V[...]) -> o;
//         model.residual(layer, hidden, o);
//     // after the refresh pass the chunk's k/v stay in the KV buffer
#pragma once

#include "lfc/tensor.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace lfc::ar {

/// Sizes of the model and the rollout.
struct Geometry {
  int layers = 4;
  int heads = 2;
  int headDim = 64; ///< even; 64 or 128 in practice
  int rows = 6;     ///< latent frame height R in tokens
  int cols = 10;    ///< latent frame width C in tokens
  int framesPerChunk = 3;
  int chunks = 7;
  int passesPerChunk = 5; ///< denoising passes + the final cache refresh pass
  int sinkFrames = 1;     ///< the first frames of the video get strong keys
  DType dtype = DType::BF16; ///< dtype of the caller's q/k/v/o buffers
  int dModel = 0;            ///< residual width; 0: heads * headDim

  int tokensPerFrame() const { return rows * cols; }
  /// Query tokens of one chunk: framesPerChunk * rows * cols.
  int64_t chunkTokens() const {
    return int64_t(framesPerChunk) * tokensPerFrame();
  }
  int totalFrames() const { return chunks * framesPerChunk; }
  int modelWidth() const { return dModel > 0 ? dModel : heads * headDim; }
  /// Width of q, k, v and attention output rows: heads * headDim.
  int attnWidth() const { return heads * headDim; }
  /// Absolute index of the first frame of `chunk` (1-based).
  int firstFrame(int chunk) const { return (chunk - 1) * framesPerChunk; }

  /// Throws lfc::Error naming the first invalid field.
  void validate() const;

  /// The reduced CPU demo: 4 layers, 2 heads, d64, 6 x 10 tokens per frame,
  /// 7 chunks x 3 frames, 5 passes, 1 sink frame, bf16.
  static Geometry cpuDemo();
  /// Wan2.1-T2V-1.3B under Self Forcing: 30 layers, 12 heads, d128, 30 x 52
  /// tokens per frame (480x832), 7 chunks x 3 frames, 5 passes, 1 sink, bf16.
  static Geometry wan13b();
};

/// The knobs of the content and of the attention structure. The defaults are
/// the model docs/ar_video.md defines and calibrates (sink frame ~20-33% of
/// the attention mass in the last chunk, steep temporal decay); change them
/// only to study one effect.
struct ModelParams {
  int contentChannels = 32;       ///< channels of the latent world
  float correlationLength = 1.5f; ///< world smoothness (Gaussian sigma, tokens)
  int worldRows = 0;              ///< torus period in tokens; 0: 2 * rows
  int worldCols = 0;              ///< torus period in tokens; 0: 2 * cols
  float velocityRow = 0.25f;      ///< camera pan, tokens per frame
  float velocityCol = 0.5f;       ///< camera pan, tokens per frame
  int driftFrames = 8;         ///< frames for content to turn into new content
  float qkAlignment = 0.5f;    ///< rho: W_k = rho W_q + sqrt(1-rho^2) G
  float positionalBias = 1.0f; ///< mean std of the per-head q/k bias
  float queryScale = 2.0f;     ///< tau: q = tau * RoPE(W_q x + b)
  float sinkGain = 1.3f;       ///< keys of frames < sinkFrames are scaled
  float residualGain = 0.3f;   ///< W_o entries ~ N(0, gain^2 / (H*D))
  float ropeBase = 10000.0f;   ///< RoPE base of every axis
};

/// How the 3D RoPE splits head_dim/2 rotation pairs between time (frame),
/// row and col, as Wan2.1 does: row and col get D/6 pairs each (integer
/// division), time the rest. D = 128: 22 / 21 / 21; D = 64: 12 / 10 / 10.
/// Pairs [0, time) rotate by the frame, then row, then col pairs.
struct RopeSplit {
  int timePairs = 0, rowPairs = 0, colPairs = 0;
};
RopeSplit ropeSplit(int headDim);

/// Angular frequency of pair `j` of an axis with `pairs` pairs:
/// base^(-j / pairs) (RoPE's base^(-2j/dim) with dim = 2 * pairs).
double ropeFrequency(int j, int pairs, double base = 10000.0);

/// Rotates `x` (headDim floats, headDim even) in place by the 3D RoPE at
/// (frame, row, col): pair i = (x[2i], x[2i+1]) becomes
/// (x0 cos a - x1 sin a, x0 sin a + x1 cos a) with a = pos * freq, pos the
/// pair's axis coordinate. The model's projections use exactly this.
void applyRope3d(float *x, int headDim, int frame, int row, int col,
                 double base = 10000.0);

/// The synthetic model. Const methods are thread-safe; per-layer weights are
/// generated on first use.
class SyntheticVideoModel {
public:
  /// `threads` 0: std::thread::hardware_concurrency(). Results never depend
  /// on the thread count. Throws lfc::Error for an invalid geometry/params.
  SyntheticVideoModel(const Geometry &geometry, uint64_t seed,
                      const ModelParams &params = {}, unsigned threads = 0);
  ~SyntheticVideoModel();
  SyntheticVideoModel(SyntheticVideoModel &&) noexcept;
  SyntheticVideoModel &operator=(SyntheticVideoModel &&) noexcept;
  SyntheticVideoModel(const SyntheticVideoModel &) = delete;
  SyntheticVideoModel &operator=(const SyntheticVideoModel &) = delete;

  const Geometry &geometry() const;
  const ModelParams &params() const;
  uint64_t seed() const;
  /// The softmax scale the model's logits are designed for: 1/sqrt(headDim).
  float softmaxScale() const;

  /// Noise level of denoising pass `pass` (0-based) of `passes`:
  /// 1 - pass / (passes - 1); 0 at the refresh pass (passes - 1) and when
  /// passes == 1.
  static float noiseSigma(int pass, int passes);
  float noiseSigma(int pass) const;

  /// The clean content embedding of `chunk`'s (1-based) tokens,
  /// [chunkTokens, modelWidth] row-major; token t = f*R*C + r*C + c.
  void content(int chunk, std::vector<float> &out) const;
  /// Hidden states of `chunk`'s tokens at denoising pass `pass`:
  /// content + noiseSigma(pass) * N(0, 1) noise drawn fresh per (chunk, pass);
  /// [chunkTokens, modelWidth]. The refresh pass gives the content exactly.
  void initChunk(int chunk, int pass, std::vector<float> &hidden) const;

  /// Layer `layer` (0-based) of `chunk`'s tokens: writes q [1, Lq, H, D] and
  /// the chunk's own key/value rows k, v [1, Lq, H, D] (Lq = chunkTokens; k/v
  /// usually view the chunk's rows of the caller's KV buffer). Host tensors of
  /// any strides (innermost contiguous), dtype bf16, fp16 or fp32 each
  /// (rounded to nearest even).
  void project(int layer, int chunk, const std::vector<float> &hidden,
               const Tensor4 &q, const Tensor4 &k, const Tensor4 &v) const;

  /// hidden += W_o(layer) * attnOut per token; attnOut [1, Lq, H, D] host
  /// tensor (bf16, fp16 or fp32, any strides).
  void residual(int layer, std::vector<float> &hidden,
                const Tensor4 &attnOut) const;

  // The model's inputs, exactly as the methods above compute with them, for
  // another implementation of the same model (DeviceModel.h).

  /// The world features of `chunk`'s tokens before the embedding,
  /// [chunkTokens, contentChannels] row-major: content(chunk) is
  /// contentFeatures * embeddingMatrix, each sum over the channels in
  /// ascending order.
  void contentFeatures(int chunk, std::vector<float> &out) const;
  /// W_in^T, [contentChannels, modelWidth] row-major.
  void embeddingMatrix(std::vector<float> &out) const;
  /// The key of the noise stream of (chunk, pass): initChunk adds
  /// noiseSigma(pass) * normal(key, i) to element i of the content (the normal
  /// of docs/ar_video.md, "Random numbers").
  uint64_t noiseKey(int chunk, int pass) const;

  /// One layer's weights as dense row-major fp32 matrices in the layout of the
  /// GEMMs: [q | k | v] = x * qkv and hidden += o * out, each sum over the
  /// inner dimension in ascending order.
  struct LayerMatrices {
    std::vector<float> qkv;  ///< [modelWidth, 3 attnWidth]: W_q^T|W_k^T|W_v^T
    std::vector<float> out;  ///< [attnWidth, modelWidth]: W_o^T
    std::vector<float> bias; ///< [heads, headDim]: added to q and k before RoPE
  };
  /// Generates the layer's weights if no call has yet (as project does).
  void layerMatrices(int layer, LayerMatrices &out) const;

  /// The fp32 cos/sin tables of the 3D RoPE the projections rotate with, per
  /// axis [positions, pairs] row-major: time over totalFrames() absolute
  /// frames, rows over `rows`, cols over `cols`; pairs as ropeSplit(headDim).
  struct RopeTables {
    RopeSplit split;
    std::vector<float> timeCos, timeSin, rowCos, rowSin, colCos, colSin;
  };
  void ropeTables(RopeTables &out) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace lfc::ar
