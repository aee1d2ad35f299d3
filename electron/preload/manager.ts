// The manager window's preload: its launch, and the shell's settings (kiosk, start at login).
import { contextBridge, ipcRenderer } from 'electron';
import { CHANNELS, type LaunchInfo, type ManagerBridge, type ShellSettingsView } from '../bridge.ts';

const bridge: ManagerBridge = {
  getLaunch: () => ipcRenderer.invoke(CHANNELS.getLaunch) as Promise<LaunchInfo>,
  getShellSettings: () => ipcRenderer.invoke(CHANNELS.getShellSettings) as Promise<ShellSettingsView>,
  setShellSettings: (change) =>
    ipcRenderer.invoke(CHANNELS.setShellSettings, change) as Promise<ShellSettingsView>,
};
contextBridge.exposeInMainWorld('tillback', bridge);
