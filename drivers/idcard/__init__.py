"""Second-generation ID-card readers (SAM module): tie a ticket to a citizen, grant elderly priority."""

INTERFACE = "drivers.idcard.interface:IdCardReader"

DRIVERS = {
    "sam": "drivers.idcard.sam:SamReader",
}
