// mlp.cpp — construction, standardization, packing, the double reference evaluation of Mlp rewards, and the batch
// forward and backward passes that fitting uses.
// Contract: pure functions of their inputs; random weights come only from the CounterRng passed in.
#include "sim/numeric/mlp.h"

#include <cmath>
#include <stdexcept>

namespace goodhart {

Activation parse_activation(const std::string& name) {
  if (name == "tanh") return Activation::tanh;
  if (name == "relu") return Activation::relu;
  throw std::invalid_argument("unknown activation: " + name);
}

Mlp make_random_mlp(int inputs, const std::vector<int>& hidden, Activation activation, CounterRng& rng) {
  Mlp f;
  f.activation = activation;
  int fan_in = inputs;
  std::vector<int> widths = hidden;
  widths.push_back(1);
  for (int width : widths) {
    Eigen::MatrixXd w(fan_in, width);
    const double sd = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (int j = 0; j < width; ++j)
      for (int i = 0; i < fan_in; ++i) w(i, j) = sd * rng.normal();
    f.weights.push_back(w);
    f.biases.push_back(Eigen::VectorXd::Zero(width));
    fan_in = width;
  }
  return f;
}

Mlp make_linear(const Eigen::VectorXd& w, double c) {
  Mlp f;
  f.weights.push_back(w);
  f.biases.push_back(Eigen::VectorXd::Constant(1, c));
  return f;
}

void standardize_output(Mlp& f, double shift, double scale) {
  f.weights.back() /= scale;
  f.biases.back() = (f.biases.back().array() - shift) / scale;
}

double mlp_eval(const Mlp& f, const double* x) {
  std::vector<double> in(x, x + f.inputs()), out;
  for (int l = 0; l < f.layers(); ++l) {
    const Eigen::MatrixXd& w = f.weights[l];
    out.assign(w.cols(), 0.0);
    for (int j = 0; j < w.cols(); ++j) {
      double s = f.biases[l](j);
      for (int i = 0; i < w.rows(); ++i) s += in[i] * w(i, j);
      if (l + 1 < f.layers()) s = f.activation == Activation::tanh ? std::tanh(s) : (s > 0 ? s : 0.0);
      out[j] = s;
    }
    in.swap(out);
  }
  return in[0];
}

int parameter_count(const Mlp& f) {
  int n = 0;
  for (int l = 0; l < f.layers(); ++l) n += static_cast<int>(f.weights[l].size() + f.biases[l].size());
  return n;
}

Eigen::VectorXd pack_parameters(const Mlp& f) {
  Eigen::VectorXd theta(parameter_count(f));
  int at = 0;
  for (int l = 0; l < f.layers(); ++l) {
    const auto nw = f.weights[l].size(), nb = f.biases[l].size();
    theta.segment(at, nw) = Eigen::Map<const Eigen::VectorXd>(f.weights[l].data(), nw);
    theta.segment(at + nw, nb) = f.biases[l];
    at += static_cast<int>(nw + nb);
  }
  return theta;
}

void unpack_parameters(const Eigen::VectorXd& theta, Mlp& f) {
  int at = 0;
  for (int l = 0; l < f.layers(); ++l) {
    const auto nw = f.weights[l].size(), nb = f.biases[l].size();
    Eigen::Map<Eigen::VectorXd>(f.weights[l].data(), nw) = theta.segment(at, nw);
    f.biases[l] = theta.segment(at + nw, nb);
    at += static_cast<int>(nw + nb);
  }
}

namespace {

void activate(Activation a, Eigen::Ref<Eigen::ArrayXXd> z) {
  if (a == Activation::tanh)
    z = z.tanh();
  else
    z = z.max(0.0);
}

// the activation's derivative given its value
Eigen::ArrayXXd activation_derivative(Activation a, const Eigen::ArrayXXd& activated) {
  if (a == Activation::tanh) return 1.0 - activated.square();
  return (activated > 0.0).cast<double>();
}

}  // namespace

std::vector<Eigen::MatrixXd> mlp_forward(const Mlp& f, const Eigen::MatrixXd& x) {
  std::vector<Eigen::MatrixXd> outs{x};
  for (int l = 0; l < f.layers(); ++l) {
    Eigen::MatrixXd z = outs.back() * f.weights[l];
    z.rowwise() += f.biases[l].transpose();
    if (l + 1 < f.layers()) activate(f.activation, z.array());
    outs.push_back(std::move(z));
  }
  return outs;
}

void mlp_backward(const Mlp& f, const std::vector<Eigen::MatrixXd>& outs, Eigen::MatrixXd delta,
                  Eigen::VectorXd& grad) {
  std::vector<int> offsets(f.layers() + 1, 0);
  for (int l = 0; l < f.layers(); ++l)
    offsets[l + 1] = offsets[l] + static_cast<int>(f.weights[l].size() + f.biases[l].size());
  for (int l = f.layers() - 1; l >= 0; --l) {
    const Eigen::MatrixXd dw = outs[l].transpose() * delta;
    const Eigen::VectorXd db = delta.colwise().sum().transpose();
    grad.segment(offsets[l], dw.size()) += Eigen::Map<const Eigen::VectorXd>(dw.data(), dw.size());
    grad.segment(offsets[l] + dw.size(), db.size()) += db;
    if (l > 0)
      delta = ((delta * f.weights[l].transpose()).array() *
               activation_derivative(f.activation, outs[l].array())).matrix();
  }
}

}  // namespace goodhart
