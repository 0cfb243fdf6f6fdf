# Placeholder so `require "active_support/broadcast_logger"` succeeds on activesupport 6.1:
# ActiveSupport::BroadcastLogger itself is defined in ../../shims.rb.
