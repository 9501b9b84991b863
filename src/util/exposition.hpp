#pragma once
// Families built at scrape time (values read then: sessions, connections, readiness,
// process_*), serialised with the registry's by prometheus-cpp's TextSerializer.
#include <prometheus/metric_family.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace frontmcp::metrics {

using Families = std::vector<prometheus::MetricFamily>;
using LabelPairs = std::initializer_list<std::pair<const char*, std::string>>;

/// A new family (HELP and TYPE) at the end of `out`; add its series with sample().
prometheus::MetricFamily& family(Families& out, std::string name, std::string help, prometheus::MetricType type);
/// One series of a counter or gauge family.
void sample(prometheus::MetricFamily& f, LabelPairs labels, double value);
/// A family with one series without labels.
void metric(Families& out, std::string name, std::string help, prometheus::MetricType type, double value);
/// The text exposition (format 0.0.4) of `families`, in order.
std::string serialize(const Families& families);

}  // namespace frontmcp::metrics
