-- SPDX-License-Identifier: MIT
--
-- Wireshark/tshark dissector for anode's formats on the wire (docs/wire.md):
-- ANEP (version 1) with every option anode knows, capsules, code loading
-- requests and chunks, concast data and signalling (§9), and on-path
-- signalling requests and responses (§10), on UDP or, in
-- router mode, in IP protocol 253 (with its Router Alert and AppID options,
-- which Wireshark's IP dissector shows). Written from docs/wire.md,
-- independently of src/wire.
--
--   tshark -X lua_script:tools/wireshark/anode.lua -r capture.pcap -V
--   wireshark -X lua_script:tools/wireshark/anode.lua
--
-- UDP port 3322 (IANA's active-net) is decoded as ANEP; on other ports (lab
-- nodes bind ephemeral ones) a heuristic recognises ANEP version 1 with a
-- consistent header and packet length. Filter fields start with "anep.",
-- "anode.capsule." and "anode.code.". Anything that does not hold together
-- is marked with expert info and never read past the packet.

local anep = Proto("anep", "Active Network Encapsulation Protocol")

local TYPES = {
	[0x4101] = "capsule",
	[0x4102] = "code request",
	[0x4103] = "code chunk",
	[0x4104] = "signalling",
	[0x4105] = "concast data",
	[0x4106] = "concast signalling",
}
local OPTS = {
	[1] = "source",
	[2] = "destination",
	[3] = "integrity checksum",
	[4] = "authentication",
	[0x100] = "previous hop",
	[0x101] = "hop limit",
	[0x102] = "goal node",
	[0x103] = "result node",
	[0x104] = "router alert",
}
local CSP_TYPES = { [1] = "RMS", [2] = "MS", [3] = "KEEPALIVE", [4] = "ERROR", [5] = "CHALLENGE", [6] = "PATH" }
local CSP_PATH = { [1] = "lost", [2] = "restored" }
local CSP_ERRORS = {
	[1] = "no such merge specification",
	[2] = "receiver unreachable",
	[3] = "specification refused",
	[4] = "state limit reached",
	[5] = "receiver left",
	[6] = "not admitted by the receiver",
}
local ADDR_OPTS = { [1] = true, [2] = true, [0x100] = true, [0x102] = true }
-- On-path signalling (Type ID 0x4104, docs/wire.md §10).
local SIG_KINDS = { [1] = "SETUP", [2] = "REMOVE", [3] = "PROBE", [4] = "TRIGGER", [0x81] = "RESPONSE", [0x82] = "HERE" }
local SIG_FIELDS = {
	[1] = "time", [2] = "nonce", [3] = "user", [4] = "module", [5] = "version", [6] = "dependency",
	[7] = "filter", [8] = "notify", [9] = "property", [10] = "lifetime", [11] = "url", [12] = "module SHA-256",
	[13] = "module size", [14] = "module kind", [15] = "origin", [16] = "enclosed request", [255] = "signature",
	[128] = "entry",
}
local SIG_ENTRY_FIELDS = { [1] = "address", [2] = "capabilities", [3] = "load", [4] = "result", [5] = "installed" }
local SIG_MOD_KINDS = { [1] = "packet module", [2] = "service process" }

local f = {
	version = ProtoField.uint8("anep.version", "Version", base.DEC),
	flags = ProtoField.uint8("anep.flags", "Flags", base.HEX),
	drop_unknown = ProtoField.bool("anep.flags.drop_unknown", "Drop if the Type ID is unknown", 8, nil, 0x80),
	type = ProtoField.uint16("anep.type", "Type ID", base.HEX, TYPES),
	hdr_len = ProtoField.uint16("anep.hdr_len", "Header length (32-bit words)", base.DEC),
	pkt_len = ProtoField.uint16("anep.pkt_len", "Packet length (octets)", base.DEC),
	opt = ProtoField.none("anep.opt", "Option"),
	opt_flags = ProtoField.uint16("anep.opt.flags", "Option flags", base.HEX, nil, 0xc000),
	opt_must_know = ProtoField.bool("anep.opt.must_know", "Drop if the option is unknown", 16, nil, 0x8000),
	opt_type = ProtoField.uint16("anep.opt.type", "Option type", base.HEX, OPTS, 0x3fff),
	opt_len = ProtoField.uint16("anep.opt.len", "Option length (32-bit words)", base.DEC),
	opt_value = ProtoField.bytes("anep.opt.value", "Option value"),
	addr_type = ProtoField.uint16("anep.addr.type", "Address type", base.DEC),
	addr_port = ProtoField.uint16("anep.addr.port", "Port", base.DEC),
	addr_ip = ProtoField.ipv6("anep.addr.ip", "Address"),
	src = ProtoField.string("anep.src", "Source"),
	dst = ProtoField.string("anep.dst", "Destination"),
	prev_hop = ProtoField.string("anep.prev_hop", "Previous hop"),
	goal = ProtoField.string("anep.goal", "Goal node"),
	result = ProtoField.string("anep.result", "Result node"),
	visit = ProtoField.uint16("anep.visit", "Visit", base.DEC),
	hop_limit = ProtoField.uint8("anep.hop_limit", "Hop limit", base.DEC),
	copies = ProtoField.uint16("anep.copies", "Copy budget", base.DEC),
	payload = ProtoField.bytes("anep.payload", "Payload"),
	cap_name = ProtoField.bytes("anode.capsule.code", "Code object (SHA-256)"),
	cap_home = ProtoField.string("anode.capsule.home", "Code home"),
	cap_flags = ProtoField.uint16("anode.capsule.flags", "Capsule flags", base.HEX),
	cap_carried = ProtoField.bool("anode.capsule.carried", "Code carried", 16, nil, 0x0001),
	cap_code_len = ProtoField.uint16("anode.capsule.code_len", "Carried code length", base.DEC),
	cap_code = ProtoField.bytes("anode.capsule.carried_code", "Carried code"),
	cap_data = ProtoField.bytes("anode.capsule.data", "Data"),
	cap_data_len = ProtoField.uint16("anode.capsule.data_len", "Data length", base.DEC),
	code_name = ProtoField.bytes("anode.code.name", "Code object (SHA-256)"),
	code_want = ProtoField.uint64("anode.code.want", "Wanted chunks (bitmap)", base.HEX),
	code_pad = ProtoField.uint16("anode.code.padding", "Padding (pays for the answer)", base.DEC),
	code_total = ProtoField.uint32("anode.code.total_len", "Code object length", base.DEC),
	code_index = ProtoField.uint16("anode.code.index", "Chunk index", base.DEC),
	code_count = ProtoField.uint16("anode.code.count", "Chunk count", base.DEC),
	code_chunk = ProtoField.bytes("anode.code.chunk", "Chunk"),
	cc_group = ProtoField.ipv6("anode.concast.group", "Group G"),
	cc_receiver = ProtoField.string("anode.concast.receiver", "Receiver R"),
	cc_app = ProtoField.uint32("anode.concast.app_id", "Application id A", base.HEX),
	cc_msg = ProtoField.bytes("anode.concast.message", "Message"),
	cc_msg_len = ProtoField.uint16("anode.concast.message_len", "Message length", base.DEC),
	cc_type = ProtoField.uint8("anode.concast.csp", "Signalling type", base.DEC, CSP_TYPES),
	cc_code = ProtoField.uint8("anode.concast.error", "Error", base.DEC, CSP_ERRORS),
	cc_nonce = ProtoField.bytes("anode.concast.nonce", "Nonce"),
	cc_cookie = ProtoField.bytes("anode.concast.cookie", "Cookie"),
	cc_spec = ProtoField.bytes("anode.concast.spec", "Merge specification (SHA-256)"),
	cc_spec_len = ProtoField.uint32("anode.concast.spec_len", "Specification length", base.DEC),
	cc_text = ProtoField.string("anode.concast.text", "Error text"),
	cc_admit = ProtoField.string("anode.concast.admit", "Admitted prefix"),
	cc_path = ProtoField.uint8("anode.concast.path", "Path toward the receiver", base.DEC, CSP_PATH),
	sig_version = ProtoField.uint8("anode.sig.version", "Signalling version", base.DEC),
	sig_kind = ProtoField.uint8("anode.sig.kind", "Kind", base.HEX, SIG_KINDS),
	sig_flags = ProtoField.uint16("anode.sig.flags", "Flags", base.HEX),
	sig_truncated = ProtoField.bool("anode.sig.truncated", "Stack truncated", 16, nil, 0x0001),
	sig_id = ProtoField.uint64("anode.sig.id", "Message id", base.HEX),
	sig_field = ProtoField.uint16("anode.sig.field", "Field", base.DEC, SIG_FIELDS),
	sig_field_len = ProtoField.uint16("anode.sig.field_len", "Field length", base.DEC),
	sig_text = ProtoField.string("anode.sig.text", "Value"),
	sig_value = ProtoField.bytes("anode.sig.value", "Value"),
	sig_num = ProtoField.uint64("anode.sig.number", "Value", base.DEC),
	sig_user = ProtoField.string("anode.sig.user", "User"),
	sig_module = ProtoField.string("anode.sig.module", "Module"),
	sig_addr = ProtoField.string("anode.sig.address", "Address"),
	sig_entry_field = ProtoField.uint16("anode.sig.entry_field", "Entry field", base.DEC, SIG_ENTRY_FIELDS),
	sig_status = ProtoField.int32("anode.sig.status", "Status", base.DEC),
}
local fields = {}
for _, v in pairs(f) do fields[#fields + 1] = v end
anep.fields = fields

local ex_bad = ProtoExpert.new("anep.bad", "Not as docs/wire.md says", expert.group.PROTOCOL, expert.severity.WARN)
anep.experts = { ex_bad }

-- "a.b.c.d:port" for IPv4-mapped addresses, "[v6]:port" otherwise.
local function addr_text(range_ip, port)
	local b = range_ip:bytes()
	local mapped = true
	for i = 0, 9 do if b:get_index(i) ~= 0 then mapped = false end end
	if mapped and b:get_index(10) == 0xff and b:get_index(11) == 0xff then
		return string.format("%d.%d.%d.%d:%d", b:get_index(12), b:get_index(13), b:get_index(14),
			b:get_index(15), port)
	end
	return "[" .. tostring(range_ip:ipv6()) .. "]:" .. port
end

-- Address value: type (2), port (2), address (16).
local function add_addr(t, tvb, off, field, label)
	t:add(f.addr_type, tvb(off, 2))
	t:add(f.addr_port, tvb(off + 2, 2))
	t:add(f.addr_ip, tvb(off + 4, 16))
	local text = addr_text(tvb(off + 4, 16), tvb(off + 2, 2):uint())
	t:add(field, tvb(off, 20), text)
	return text
end

local function dissect_option(tvb, tree, off, len, info)
	local w0 = tvb(off, 2):uint()
	local otype = bit32.band(w0, 0x3fff)
	local t = tree:add(f.opt, tvb(off, len))
	t:set_text("Option: " .. (OPTS[otype] or string.format("unknown 0x%04x", otype)))
	t:add(f.opt_flags, tvb(off, 2))
	t:add(f.opt_must_know, tvb(off, 2))
	t:add(f.opt_type, tvb(off, 2))
	t:add(f.opt_len, tvb(off + 2, 2))
	local v, vlen = off + 4, len - 4
	if ADDR_OPTS[otype] then
		if vlen ~= 20 then return t:add_proto_expert_info(ex_bad, "an address option holds 20 octets") end
		local field = ({ [1] = f.src, [2] = f.dst, [0x100] = f.prev_hop, [0x102] = f.goal })[otype]
		local text = add_addr(t, tvb, v, field)
		t:append_text(": " .. text)
		if otype == 1 then info.src = text elseif otype == 2 then info.dst = text end
	elseif otype == 0x103 then
		if vlen ~= 24 then return t:add_proto_expert_info(ex_bad, "a result option holds 24 octets") end
		local text = add_addr(t, tvb, v, f.result)
		t:add(f.visit, tvb(v + 20, 2))
		t:append_text(string.format(": %s, visit %d", text, tvb(v + 20, 2):uint()))
	elseif otype == 0x101 then
		if vlen ~= 4 then return t:add_proto_expert_info(ex_bad, "a hop limit option holds 4 octets") end
		t:add(f.hop_limit, tvb(v, 1))
		t:add(f.copies, tvb(v + 2, 2))
		t:append_text(string.format(": %d hops, copy budget %d", tvb(v, 1):uint(), tvb(v + 2, 2):uint()))
		info.hops = tvb(v, 1):uint()
	elseif vlen > 0 then
		t:add(f.opt_value, tvb(v, vlen))
	end
end

local function dissect_capsule(tvb, tree, off, len, pinfo)
	local t = tree:add(anep, tvb(off, len), "Capsule")
	if len < 56 then return t:add_proto_expert_info(ex_bad, "a capsule header is 56 octets") end
	t:add(f.cap_name, tvb(off, 32))
	t:add(f.cap_home, tvb(off + 32, 20), addr_text(tvb(off + 32, 16), tvb(off + 48, 2):uint()))
	t:add(f.cap_flags, tvb(off + 52, 2))
	t:add(f.cap_carried, tvb(off + 52, 2))
	local code_len = tvb(off + 54, 2):uint()
	t:add(f.cap_code_len, tvb(off + 54, 2))
	local padded = code_len + (4 - code_len % 4) % 4
	if 56 + padded > len then return t:add_proto_expert_info(ex_bad, "carried code runs past the packet") end
	if code_len > 0 then t:add(f.cap_code, tvb(off + 56, code_len)) end
	local data_off, data_len = off + 56 + padded, len - 56 - padded
	t:add(f.cap_data_len, data_len):set_generated()
	if data_len > 0 then t:add(f.cap_data, tvb(data_off, data_len)) end
	pinfo.cols.info:append(string.format(", code %s, %d data octets%s", tvb(off, 4):bytes():tohex():lower(),
		data_len, code_len > 0 and ", code carried" or ""))
end

local function dissect_request(tvb, tree, off, len, pinfo)
	local t = tree:add(anep, tvb(off, len), "Code request")
	if len < 40 then return t:add_proto_expert_info(ex_bad, "a code request is at least 40 octets") end
	t:add(f.code_name, tvb(off, 32))
	t:add(f.code_want, tvb(off + 32, 8))
	t:add(f.code_pad, len - 40):set_generated()
	pinfo.cols.info:append(string.format(", code %s, chunks 0x%s", tvb(off, 4):bytes():tohex():lower(),
		tvb(off + 32, 8):bytes():tohex():lower()))
end

local function dissect_chunk(tvb, tree, off, len, pinfo)
	local t = tree:add(anep, tvb(off, len), "Code chunk")
	if len < 40 then return t:add_proto_expert_info(ex_bad, "a code chunk header is 40 octets") end
	t:add(f.code_name, tvb(off, 32))
	t:add(f.code_total, tvb(off + 32, 4))
	t:add(f.code_index, tvb(off + 36, 2))
	t:add(f.code_count, tvb(off + 38, 2))
	if len > 40 then t:add(f.code_chunk, tvb(off + 40, len - 40)) end
	pinfo.cols.info:append(string.format(", code %s, chunk %d of %d", tvb(off, 4):bytes():tohex():lower(),
		tvb(off + 36, 2):uint(), tvb(off + 38, 2):uint()))
end

-- A concast flow (40 octets): group, receiver, application id.
local function add_flow(t, tvb, off)
	t:add(f.cc_group, tvb(off, 16))
	local rcv = addr_text(tvb(off + 16, 16), tvb(off + 32, 2):uint())
	t:add(f.cc_receiver, tvb(off + 16, 20), rcv)
	t:add(f.cc_app, tvb(off + 36, 4))
	local g = addr_text(tvb(off, 16), 0):gsub(":0$", "")
	return string.format("%s -> %s app 0x%08x", g, rcv, tvb(off + 36, 4):uint())
end

local function dissect_concast_data(tvb, tree, off, len, pinfo)
	local t = tree:add(anep, tvb(off, len), "Concast data")
	if len < 40 then return t:add_proto_expert_info(ex_bad, "a concast flow is 40 octets") end
	local flow = add_flow(t, tvb, off)
	t:add(f.cc_msg_len, len - 40):set_generated()
	if len > 40 then t:add(f.cc_msg, tvb(off + 40, len - 40)) end
	if len - 40 > 1024 then t:add_proto_expert_info(ex_bad, "a concast message is at most 1024 octets") end
	pinfo.cols.info:append(string.format(", flow %s, %d octets", flow, len - 40))
end

local function dissect_csp(tvb, tree, off, len, pinfo)
	local t = tree:add(anep, tvb(off, len), "Concast signalling")
	if len < 44 then return t:add_proto_expert_info(ex_bad, "a signalling message is at least 44 octets") end
	local ty, code = tvb(off, 1):uint(), tvb(off + 1, 1):uint()
	t:add(f.cc_type, tvb(off, 1))
	if ty == 4 then t:add(f.cc_code, tvb(off + 1, 1)) end
	local flow = add_flow(t, tvb, off + 4)
	local body, blen = off + 44, len - 44
	pinfo.cols.info = "concast " .. (CSP_TYPES[ty] or string.format("type %d", ty))
	-- Every body starts with the nonce of the request (RMS, KEEPALIVE:
	-- the sender's own; MS, ERROR: echoed).
	if blen < 8 then return t:add_proto_expert_info(ex_bad, "a signalling body starts with an 8-octet nonce") end
	t:add(f.cc_nonce, tvb(body, 8))
	body, blen = body + 8, blen - 8
	if ty == 2 then
		-- The name, the length, then the receiver's admission: a count
		-- and that many prefixes of 17 octets (address, length in bits).
		if blen < 37 then return t:add_proto_expert_info(ex_bad, "an MS body is the nonce and at least 37 octets") end
		t:add(f.cc_spec, tvb(body, 32))
		t:add(f.cc_spec_len, tvb(body + 32, 4))
		pinfo.cols.info:append(", spec " .. tvb(body, 4):bytes():tohex():lower())
		local n = tvb(body + 36, 1):uint()
		if n > 8 or blen ~= 37 + 17 * n then
			return t:add_proto_expert_info(ex_bad, "an MS admits at most 8 prefixes, 17 octets each")
		end
		for i = 0, n - 1 do
			local p = body + 37 + 17 * i
			local bits = tvb(p + 16, 1):uint()
			local text
			if tvb(p, 12):bytes():tohex() == "00000000000000000000FFFF" and bits >= 96 then
				text = tostring(tvb(p + 12, 4):ipv4()) .. "/" .. (bits - 96)
			else
				text = tostring(tvb(p, 16):ipv6()) .. "/" .. bits
			end
			t:add(f.cc_admit, tvb(p, 17), text)
		end
		if n > 0 then pinfo.cols.info:append(string.format(", admits %d prefixes", n)) end
	elseif ty == 6 then
		if blen ~= 1 then return t:add_proto_expert_info(ex_bad, "a PATH body is the nonce and 1 octet") end
		t:add(f.cc_path, tvb(body, 1))
		pinfo.cols.info:append(": path " .. (CSP_PATH[tvb(body, 1):uint()] or "?"))
	elseif ty == 4 then
		pinfo.cols.info:append(": " .. (CSP_ERRORS[code] or string.format("code %d", code)))
		if blen > 0 then t:add(f.cc_text, tvb(body, blen)) end
		if blen > 200 then t:add_proto_expert_info(ex_bad, "an ERROR's text is at most 200 octets") end
	elseif blen ~= 8 then
		t:add_proto_expert_info(ex_bad, "RMS, KEEPALIVE and CHALLENGE have the nonce and an 8-octet cookie")
	else
		t:add(f.cc_cookie, tvb(body, 8))
	end
	pinfo.cols.info:append(", flow " .. flow)
end

-- A signalling address: IP (16, IPv4-mapped for IPv4), port (2), zero (2).
local function sig_addr(tvb, off)
	return addr_text(tvb(off, 16), tvb(off + 16, 2):uint())
end

local function printable(tvb, off, n)
	for i = 0, n - 1 do
		local c = tvb(off + i, 1):uint()
		if c < 0x20 or c > 0x7e then return false end
	end
	return true
end

local function dissect_sig_entry(tvb, tree, off, len)
	local pos, stop, who = off, off + len, "?"
	while pos < stop do
		if pos + 4 > stop then return tree:add_proto_expert_info(ex_bad, "a truncated entry field") end
		local ty, n = tvb(pos, 2):uint(), tvb(pos + 2, 2):uint()
		if pos + 4 + n > stop then return tree:add_proto_expert_info(ex_bad, "an entry field runs past its entry") end
		local ft = tree:add(tvb(pos, 4 + n), SIG_ENTRY_FIELDS[ty] or string.format("entry field %d", ty))
		ft:add(f.sig_entry_field, tvb(pos, 2))
		local v = pos + 4
		if ty == 1 and n == 20 then
			who = sig_addr(tvb, v)
			ft:add(f.sig_addr, tvb(v, 20), who)
		elseif ty == 4 and n >= 4 then
			ft:add(f.sig_status, tvb(v, 4))
			if n > 4 then ft:add(f.sig_text, tvb(v + 4, n - 4)) end
		elseif ty == 5 and n >= 6 then
			local nl, vl = tvb(v + 4, 1):uint(), tvb(v + 5, 1):uint()
			if 6 + nl + vl ~= n then ft:add_proto_expert_info(ex_bad, "an installed module's lengths do not add up")
			else
				ft:add(f.sig_module, tvb(v + 6, nl))
				ft:append_text(string.format(": %s %s, %d s left", tvb(v + 6, nl):string(),
					vl > 0 and tvb(v + 6 + nl, vl):string() or "", tvb(v, 4):uint()))
			end
		elseif (ty == 3 and n == 4) or (ty == 2 and n == 16) then
			ft:add(f.sig_value, tvb(v, n))
		else
			ft:add_proto_expert_info(ex_bad, "an entry field of the wrong length or an unknown type")
		end
		pos = v + n
	end
	return who
end

local function dissect_sig(tvb, tree, off, len, pinfo, nested)
	local t = tree:add(anep, tvb(off, len), nested and "Enclosed request" or "On-path signalling")
	if len < 12 then return t:add_proto_expert_info(ex_bad, "a signalling message has a 12-octet header") end
	t:add(f.sig_version, tvb(off, 1))
	t:add(f.sig_kind, tvb(off + 1, 1))
	t:add(f.sig_flags, tvb(off + 2, 2))
	local kind = tvb(off + 1, 1):uint()
	if kind == 0x81 then t:add(f.sig_truncated, tvb(off + 2, 2)) end
	t:add(f.sig_id, tvb(off + 4, 8))
	local kind_name = SIG_KINDS[kind] or string.format("kind %d", kind)
	if nested then
		pinfo.cols.info:append(", encloses " .. kind_name)
	else
		pinfo.cols.info = "signalling " .. kind_name
	end
	if tvb(off, 1):uint() ~= 1 then return t:add_proto_expert_info(ex_bad, "not signalling version 1") end
	local pos, stop, entries = off + 12, off + len, 0
	if kind == 0x82 and len ~= 12 then t:add_proto_expert_info(ex_bad, "HERE is the header alone") end
	while pos < stop do
		if pos + 4 > stop then return t:add_proto_expert_info(ex_bad, "a truncated field header") end
		local ty, n = tvb(pos, 2):uint(), tvb(pos + 2, 2):uint()
		if pos + 4 + n > stop then return t:add_proto_expert_info(ex_bad, "a field runs past the message") end
		local ft = t:add(tvb(pos, 4 + n), SIG_FIELDS[ty] or string.format("field %d", ty))
		ft:add(f.sig_field, tvb(pos, 2))
		ft:add(f.sig_field_len, tvb(pos + 2, 2))
		local v = pos + 4
		if ty == 128 and kind == 0x81 then
			entries = entries + 1
			ft:append_text(": " .. dissect_sig_entry(tvb, ft, v, n))
		elseif kind == 0x81 then
			ft:add_proto_expert_info(ex_bad, "a response holds entries only")
		elseif ty == 3 and n >= 1 then
			ft:add(f.sig_user, tvb(v, n))
			if not nested then pinfo.cols.info:append(" by " .. tvb(v, n):string()) end
		elseif ty == 4 and n >= 1 then
			ft:add(f.sig_module, tvb(v, n))
			pinfo.cols.info:append(" " .. tvb(v, n):string())
		elseif (ty == 5 or ty == 6 or ty == 9 or ty == 11) and n >= 1 and printable(tvb, v, n) then
			ft:add(f.sig_text, tvb(v, n))
			ft:append_text(": " .. tvb(v, n):string())
		elseif (ty == 8 or ty == 15) and n == 20 then
			ft:add(f.sig_addr, tvb(v, 20), sig_addr(tvb, v))
			ft:append_text(": " .. sig_addr(tvb, v))
		elseif (ty == 1 and n == 8) or (ty == 10 and n == 4) or (ty == 13 and n == 4) then
			ft:add(f.sig_num, tvb(v, n), tvb(v, n):uint64())
			ft:append_text(": " .. tostring(tvb(v, n):uint64()))
		elseif ty == 14 and n == 1 then
			ft:append_text(": " .. (SIG_MOD_KINDS[tvb(v, 1):uint()] or "?"))
		elseif ty == 7 and n == 44 then
			ft:append_text(string.format(": proto %d, dports %d-%d", tvb(v, 1):uint(), tvb(v + 8, 2):uint(),
				tvb(v + 10, 2):uint()))
		elseif (ty == 2 and n == 16) or (ty == 12 and n == 32) or (ty == 255 and n == 64) then
			ft:add(f.sig_value, tvb(v, n))
		elseif ty == 16 and not nested then
			dissect_sig(tvb, ft, v, n, pinfo, true)
		else
			ft:add_proto_expert_info(ex_bad, "a field of the wrong length or an unknown type")
		end
		pos = v + n
	end
	if kind == 0x81 then pinfo.cols.info:append(string.format(", %d entries", entries)) end
end

-- Whether the bytes hold together as ANEP version 1 (the heuristic).
local function looks_like_anep(tvb)
	if tvb:len() < 8 or tvb(0, 1):uint() ~= 1 then return false end
	local hdr, pkt = tvb(4, 2):uint() * 4, tvb(6, 2):uint()
	return hdr >= 8 and hdr <= pkt and pkt <= tvb:len()
end

function anep.dissector(tvb, pinfo, tree)
	if tvb:len() < 8 then return 0 end
	pinfo.cols.protocol = "ANEP"
	local type_id = tvb(2, 2):uint()
	local hdr, pkt = tvb(4, 2):uint() * 4, tvb(6, 2):uint()
	local t = tree:add(anep, tvb(0, math.min(pkt, tvb:len())))
	t:add(f.version, tvb(0, 1))
	t:add(f.flags, tvb(1, 1))
	t:add(f.drop_unknown, tvb(1, 1))
	t:add(f.type, tvb(2, 2))
	t:add(f.hdr_len, tvb(4, 2))
	t:add(f.pkt_len, tvb(6, 2))
	pinfo.cols.info = TYPES[type_id] or string.format("Type ID 0x%04x", type_id)
	if tvb(0, 1):uint() ~= 1 then
		t:add_proto_expert_info(ex_bad, "not ANEP version 1")
		return tvb:len()
	end
	if hdr < 8 or hdr > pkt or pkt > tvb:len() then
		t:add_proto_expert_info(ex_bad, "header and packet lengths do not fit the datagram")
		return tvb:len()
	end
	local info = {}
	local off = 8
	while off < hdr do
		if off + 4 > hdr then
			t:add_proto_expert_info(ex_bad, "a truncated option header")
			break
		end
		local olen = tvb(off + 2, 2):uint() * 4
		if olen < 4 or off + olen > hdr then
			t:add_proto_expert_info(ex_bad, "an option runs past the header")
			break
		end
		dissect_option(tvb, t, off, olen, info)
		off = off + olen
	end
	if info.src then pinfo.cols.info:append(" from " .. info.src) end
	if info.dst then pinfo.cols.info:append(" to " .. info.dst) end
	if info.hops then pinfo.cols.info:append(", " .. info.hops .. " hops left") end
	local plen = pkt - hdr
	if type_id == 0x4101 then
		dissect_capsule(tvb, t, hdr, plen, pinfo)
	elseif type_id == 0x4102 then
		dissect_request(tvb, t, hdr, plen, pinfo)
	elseif type_id == 0x4103 then
		dissect_chunk(tvb, t, hdr, plen, pinfo)
	elseif type_id == 0x4104 then
		dissect_sig(tvb, t, hdr, plen, pinfo)
	elseif type_id == 0x4105 then
		dissect_concast_data(tvb, t, hdr, plen, pinfo)
	elseif type_id == 0x4106 then
		dissect_csp(tvb, t, hdr, plen, pinfo)
	elseif plen > 0 then
		t:add(f.payload, tvb(hdr, plen))
	end
	return tvb:len()
end

DissectorTable.get("udp.port"):add(3322, anep)
-- Concast on IP (router mode): ANEP in IP protocol 253 (docs/wire.md §9).
DissectorTable.get("ip.proto"):add(253, anep)

local function heuristic(tvb, pinfo, tree)
	if not looks_like_anep(tvb) then return false end
	anep.dissector(tvb, pinfo, tree)
	return true
end
anep:register_heuristic("udp", heuristic)
