"""Capture files: pcapng written as datagrams arrive, pcap/pcapng read back, replay pacing.

A debugging session should outlive the process: what arrived can be handed to Wireshark, reopened
in udpscope, or sent again into a test rig. This package turns datagrams (payload + the engine's
`RemoteInfo`) into IP/UDP frames and back; it knows nothing of screens and imports only the
engine and the capture layer. Submodules are imported by what needs them (the writer sits on
`listen`'s receive path, the reader on `replay` and `open`).
"""
