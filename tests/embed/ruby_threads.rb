# Ruby threads that set and read ENV, call localtime, resolve localhost
# and allocate while two others spawn children with system() and
# backticks (issue 15's torture): every spawn's output right, every
# thread's reads its own. As root Ruby forks (rerouted at libruby's
# vfork caller); unprivileged it vforks by itself.
require "socket"
n = (ARGV[0] || 40).to_i
stop = false
bad = Queue.new
setters = 2.times.map do |t|
  Thread.new do
    i = 0
    until stop
      k = "RT_#{t}_#{i % 32}"
      ENV[k] = i.to_s
      bad << k unless ENV[k] == i.to_s
      i += 1
      Thread.pass
    end
  end
end
others = [
  Thread.new { until stop; bad << :reader if ENV["RT_CHILD"] || !ENV["HOME"]; Thread.pass; end },
  Thread.new { until stop; Time.now.localtime; Thread.pass; end },
  Thread.new { until stop; Addrinfo.getaddrinfo("localhost", 80); sleep 0.001; end },
  Thread.new { until stop; Array.new(1000) { "x" * 100 }; Thread.pass; end },
]
spawners = 2.times.map do |t|
  Thread.new do
    ok = 0
    n.times do |i|
      ok += 1 if `RT_CHILD=1 sh -c 'echo #{t}-#{i} $RT_CHILD'` == "#{t}-#{i} 1\n"
      ok += 1 if system("sh", "-c", "exit #{i % 3}") == (i % 3).zero?
    end
    ok
  end
end
ok = spawners.sum(&:value)
stop = true
(setters + others).each(&:join)
puts "spawns right: #{ok} of #{4 * n}; threads' anomalies: #{bad.size}; RT_CHILD in the parent: #{ENV.key?('RT_CHILD')}"
