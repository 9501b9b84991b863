#pragma once

namespace frontmcp {

/// The lists a client may be told have changed (notifications/<kind>/list_changed):
/// sessions that initialized and subscriptions/listen streams that asked for the kind.
/// `resources` covers resource templates too.
enum class ListKind { tools, resources, prompts };

}  // namespace frontmcp
