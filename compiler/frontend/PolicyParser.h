// TOML policy front end: reads a policy file with toml++ and validates it into
// a PolicySpec.
#ifndef LFC_COMPILER_FRONTEND_POLICYPARSER_H
#define LFC_COMPILER_FRONTEND_POLICYPARSER_H

#include "compiler/frontend/PolicySpec.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lfc::frontend {

/// A parsed policy, or the errors that stopped it. `spec` is set iff
/// `diagnostics` is empty.
struct ParseResult {
  std::optional<PolicySpec> spec;
  std::vector<Diagnostic> diagnostics;
};

/// Parses and validates policy text; `file` names it in diagnostics and source
/// positions. Never throws and never crashes on malformed input: every problem
/// becomes a diagnostic.
ParseResult parsePolicy(std::string_view text, const std::string &file);

/// Reads `path` and parses it. An unreadable file is a diagnostic at line 0.
ParseResult parsePolicyFile(const std::string &path);

/// The frames of the longest past any chunk sees (visible frames minus the
/// chunk's own); the bound for frame counts such as `frames.top_k`.
int64_t maxPastFrames(const GeometrySpec &geometry);

} // namespace lfc::frontend

#endif // LFC_COMPILER_FRONTEND_POLICYPARSER_H
