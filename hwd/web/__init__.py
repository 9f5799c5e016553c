"""The web kit that both web apps share (hwd-ui's pages and hwd-central's county pages): who a
client is by its address, and the security pieces every page server needs. The apps import it;
nothing in the daemon does."""
