"""The hall's side of its devices: what the rules' events put on window screens, keypad LCDs and
speakers (screens), the tickets and notices it prints (printing), the keypad presses and scans it
turns into hall operations (events), and the delivery underneath all of them (outputs)."""
