#include "surface/graph_cut.h"

#include <boost/graph/boykov_kolmogorov_max_flow.hpp>
#include <boost/graph/compressed_sparse_row_graph.hpp>

#include "util/error.h"

namespace parallax {

namespace {

using Graph = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property,
                                                 boost::no_property, boost::no_property, uint32_t,
                                                 uint32_t>;
using EdgeRef = boost::graph_traits<Graph>::edge_descriptor;

}  // namespace

std::vector<char> minimumCutInside(const CutGraph& g, double* cutCost) {
  const uint32_t n = uint32_t(g.nodes());
  const uint32_t s = n, t = n + 1;
  // Directed arcs with their reverse: each edge both ways, each terminal link and its
  // empty reverse. Sorted by source (counting sort) so that the CSR graph keeps this
  // order and an arc's index is its position.
  struct Arc {
    uint32_t from, to;
    float capacity;
    uint32_t reverse;  // index of the reverse arc, in the order given here
  };
  std::vector<Arc> arcs;
  arcs.reserve(2 * g.edges.size() + 4 * size_t(n));
  auto pair = [&](uint32_t a, uint32_t b, float ab, float ba) {
    const uint32_t i = uint32_t(arcs.size());
    arcs.push_back({a, b, ab, i + 1});
    arcs.push_back({b, a, ba, i});
  };
  for (const auto& e : g.edges) {
    if (e.a >= n || e.b >= n) throw Error("graph cut: an edge names a node beyond the graph");
    if (e.ab > 0 || e.ba > 0) pair(e.a, e.b, e.ab, e.ba);
  }
  for (uint32_t v = 0; v < n; ++v) {
    if (g.source[v] > 0) pair(s, v, g.source[v], 0.f);
    if (g.sink[v] > 0) pair(v, t, g.sink[v], 0.f);
  }
  std::vector<uint32_t> start(n + 3, 0);
  for (const Arc& a : arcs) ++start[a.from + 1];
  for (uint32_t v = 0; v < n + 2; ++v) start[v + 1] += start[v];
  std::vector<uint32_t> position(arcs.size());
  {
    std::vector<uint32_t> next(start.begin(), start.end() - 1);
    for (size_t i = 0; i < arcs.size(); ++i) position[i] = next[arcs[i].from]++;
  }
  std::vector<std::pair<uint32_t, uint32_t>> sorted(arcs.size());
  std::vector<float> capacity(arcs.size()), residual(arcs.size());
  std::vector<uint32_t> reverseIndex(arcs.size());
  for (size_t i = 0; i < arcs.size(); ++i) {
    const uint32_t p = position[i];
    sorted[p] = {arcs[i].from, arcs[i].to};
    capacity[p] = arcs[i].capacity;
    reverseIndex[p] = position[arcs[i].reverse];
  }
  arcs.clear();
  arcs.shrink_to_fit();
  position.clear();
  position.shrink_to_fit();
  const Graph graph(boost::edges_are_sorted, sorted.begin(), sorted.end(), n + 2);
  sorted.clear();
  sorted.shrink_to_fit();
  std::vector<EdgeRef> reverse(reverseIndex.size());
  for (uint32_t v = 0; v < n + 2; ++v)
    for (auto [e, end] = boost::out_edges(v, graph); e != end; ++e)
      reverse[e->idx] = EdgeRef(boost::target(*e, graph), reverseIndex[e->idx]);
  reverseIndex.clear();
  reverseIndex.shrink_to_fit();
  const auto edgeIndex = boost::get(boost::edge_index, graph);
  const auto vertexIndex = boost::get(boost::vertex_index, graph);
  std::vector<EdgeRef> predecessor(n + 2);
  std::vector<boost::default_color_type> color(n + 2);
  std::vector<uint32_t> distance(n + 2);
  const float flow = boost::boykov_kolmogorov_max_flow(
      graph, boost::make_iterator_property_map(capacity.begin(), edgeIndex),
      boost::make_iterator_property_map(residual.begin(), edgeIndex),
      boost::make_iterator_property_map(reverse.begin(), edgeIndex),
      boost::make_iterator_property_map(predecessor.begin(), vertexIndex),
      boost::make_iterator_property_map(color.begin(), vertexIndex),
      boost::make_iterator_property_map(distance.begin(), vertexIndex), vertexIndex, s, t);
  if (cutCost) *cutCost = flow;
  // The sink's tree is white; the source's black; free nodes grey: outside.
  std::vector<char> inside(n);
  for (uint32_t v = 0; v < n; ++v) inside[v] = color[v] == boost::white_color;
  return inside;
}

}  // namespace parallax
