def test_scanner_through_real_daemon(hwd_daemon):
    d = hwd_daemon('''
        [[device]]
        id = "s1"
        kind = "scanner"
        driver = "serial"
        url = "sim://s1"
    ''')
    d.wait_state("s1", "online")
    ev = d.events("scanner.")
    d.sim("s1", "scan", text="APPT-1")
    assert ev.wait("scanner.scan", text="APPT-1")["device"] == "s1"
