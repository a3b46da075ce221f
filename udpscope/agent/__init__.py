"""Many hosts: the `udpscope agent` that runs on each of them, and the coordinator behind
`udpscope matrix` (and, later, the TUI's Hosts view) that drives them.

Multicast problems live between hosts, so udpscope reaches them over transports people already
trust (OpenSSH, `kubectl exec`, `ip netns exec`): the coordinator starts one agent per host
through a command template and speaks JSON lines with it over the child's stdin/stdout. An agent
opens no listening port, dies with its transport, and only does what the coordinator asks
within limits the coordinator sets and hard caps of its own.

Rooms, each importing downward only (no Textual):
  protocol     the versioned line protocol: message shapes, validation, limits and hard caps
  streams      receive side: probe streams keyed by stream id (loss, duplicates, delay, TTL)
  sender       bounded, paced probe jobs
  agent        the agent core (transport-agnostic) and `serve_stdio`
  transport    starting an agent from a command template, as a child process
  client       request/reply over one agent link
  grid         the sender x receiver cells from agents' reports (pure), and the JSON result
  coordinator  the run: start, join, send, poll, stop; a snapshot API a view polls on a timer
"""
