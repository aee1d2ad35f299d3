// The customer display's preload: only its launch (the local API and token); it changes nothing.
import { contextBridge, ipcRenderer } from 'electron';
import { CHANNELS, type DisplayBridge, type LaunchInfo } from '../bridge.ts';

const bridge: DisplayBridge = {
  getLaunch: () => ipcRenderer.invoke(CHANNELS.getLaunch) as Promise<LaunchInfo>,
};
contextBridge.exposeInMainWorld('tillback', bridge);
