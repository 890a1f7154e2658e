// A minimum s-t cut labelling (Boykov-Kolmogorov max-flow, Boost.Graph) for the
// visibility mesher: each node is a tetrahedron, labelled outside (source side:
// free space) or inside (sink side).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace parallax {

struct CutGraph {
  // Per node: what it costs to label it inside (its link to the source) and outside
  // (its link to the sink).
  std::vector<float> source, sink;
  // Pairs of neighbouring nodes: cutting with `a` outside and `b` inside costs
  // `ab`; with `b` outside and `a` inside, `ba`.
  struct Edge {
    uint32_t a, b;
    float ab, ba;
  };
  std::vector<Edge> edges;

  explicit CutGraph(size_t nodes = 0) : source(nodes, 0.f), sink(nodes, 0.f) {}
  size_t nodes() const { return source.size(); }
};

// True for the nodes on the sink side of a minimum cut. A node that no flow
// reaches from the sink's side (no evidence either way) is labelled outside.
std::vector<char> minimumCutInside(const CutGraph& graph, double* cutCost = nullptr);

}  // namespace parallax
