# Minimal shims so Kamal 2.12.0 runs on Debian 12's older gems.
# None of them changes what Kamal sends to hosts; they only fill in library APIs
# that appeared after the Debian versions. ../kamal puts shimlib/ on the load path
# (a placeholder for active_support/broadcast_logger).

require "logger"
require "active_support"
require "zeitwerk"
require "concurrent"

# activesupport 7.1: ActiveSupport::BroadcastLogger (Debian has 6.1).
# Kamal uses: new, broadcast_to, <<, close (plus Logger methods via formatter).
unless defined?(ActiveSupport::BroadcastLogger)
  class ActiveSupport::BroadcastLogger
    attr_reader :broadcasts

    def initialize(*loggers)
      @broadcasts = []
      broadcast_to(*loggers)
    end

    def broadcast_to(*loggers)
      @broadcasts.concat(loggers)
    end

    def stop_broadcasting_to(logger)
      @broadcasts.delete(logger)
    end

    def <<(message)
      @broadcasts.each { |logger| logger << message }
      self
    end

    def close
      @broadcasts.each { |logger| logger.close if logger.respond_to?(:close) }
    end

    %i[add log debug info warn error fatal unknown].each do |name|
      define_method(name) do |*args, &block|
        @broadcasts.each { |logger| logger.public_send(name, *args, &block) }
        true
      end
    end

    def respond_to_missing?(name, include_private = false)
      @broadcasts.any? { |logger| logger.respond_to?(name, include_private) } || super
    end

    def method_missing(name, *args, &block)
      if @broadcasts.any? { |logger| logger.respond_to?(name) }
        @broadcasts.map { |logger| logger.public_send(name, *args, &block) }.first
      else
        super
      end
    end
  end
end

# zeitwerk 2.6.18: Loader#eager_load_namespace (Debian has 2.6.1). Eager loading the
# whole gem is a superset of eager loading one namespace.
unless Zeitwerk::Loader.method_defined?(:eager_load_namespace)
  class Zeitwerk::Loader
    def eager_load_namespace(_mod)
      eager_load
    end
  end
end

# concurrent-ruby 1.2: Semaphore#acquire with a block (Debian has 1.1.6).
module KamalSideSemaphoreBlock
  def acquire(permits = 1)
    return super unless block_given?

    super
    begin
      yield
    ensure
      release(permits)
    end
  end
end
Concurrent::Semaphore.prepend(KamalSideSemaphoreBlock)
