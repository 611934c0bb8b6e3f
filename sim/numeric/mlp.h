// mlp.h — a small fully connected network with a scalar output: the shape of linear and MLP rewards.
// Contract: layer l maps in_l -> out_l as x W_l + b_l; hidden layers apply `activation`, the last is linear and
// has one output (a network fitted with several heads, as ODIN's, is split into one-output networks before it
// scores). No hidden layers is a linear reward. Parameters are double; scoring backends may use float.
#pragma once

#include <string>
#include <vector>

#include <Eigen/Dense>

#include "sim/numeric/philox_hd.h"

namespace goodhart {

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class Activation { tanh, relu };
Activation parse_activation(const std::string& name);  // "tanh" | "relu"

struct Mlp {
  std::vector<Eigen::MatrixXd> weights;  // in_l x out_l
  std::vector<Eigen::VectorXd> biases;   // out_l
  Activation activation = Activation::tanh;

  int inputs() const { return static_cast<int>(weights.front().rows()); }
  int layers() const { return static_cast<int>(weights.size()); }
};

// widths: hidden widths (empty: linear); weights ~ N(0, 1/fan_in) (Lecun-normal), biases 0, from rng
Mlp make_random_mlp(int inputs, const std::vector<int>& hidden, Activation activation, CounterRng& rng);

// a linear reward w . x + c
Mlp make_linear(const Eigen::VectorXd& w, double c = 0.0);

// r <- (r - shift) / scale, folded into the last layer
void standardize_output(Mlp& f, double shift, double scale);

// plain double evaluation of one input (the reference every fast path is tested against)
double mlp_eval(const Mlp& f, const double* x);

// number of parameters and their flat packing (layer by layer: W column-major, then b)
int parameter_count(const Mlp& f);
Eigen::VectorXd pack_parameters(const Mlp& f);
void unpack_parameters(const Eigen::VectorXd& theta, Mlp& f);

// a batch forward pass in double (rows = examples), keeping every layer's output: outs[0] = x, outs.back() the
// outputs (one column per output: a network may have several while it is trained, as ODIN's two heads)
std::vector<Eigen::MatrixXd> mlp_forward(const Mlp& f, const Eigen::MatrixXd& x);

// backpropagation: grad += d(sum_i sum_k delta(i, k) out_k(x_i)) / d pack_parameters(f), from mlp_forward's outs
void mlp_backward(const Mlp& f, const std::vector<Eigen::MatrixXd>& outs, Eigen::MatrixXd delta,
                  Eigen::VectorXd& grad);

}  // namespace goodhart
