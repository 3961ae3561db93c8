"""Files stations exchange with the portal: firmware images, diagnostics, floor plans, FTP."""
