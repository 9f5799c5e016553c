"""好差评: one rating per service (rules), its tables and upstream records (store), which
channel may rate which service (channels), work orders for 差评 (workorders) and the RPC methods
beyond ``hall.rate`` (api)."""
