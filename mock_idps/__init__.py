"""Mock identity providers: real protocol servers, strict by default.

Each mock is built with the shared clock and, in test mode only, the shared control
surface. They know the MIC only through the wire.
"""
